"""My applications: each with its stage in plain words and the day it last changed."""

from __future__ import annotations

from flows.catalogue import render
from flows.jobs import CLIP, clip, day_month, lookup_of
from flows.oneshot import OneReply, ended
from flows.types import Context, State, Turn, reply
from nlu.parse import Parse

# At most this many applications in one text (three SMS segments).
SHOWN = 4


class ApplicationStatus(OneReply):
    """List the seeker's applications with their stage."""

    name = "application_status"

    def start(self, ctx: Context, state: State, parse: Parse) -> Turn:
        """One text: each application, or how to apply when there are none."""
        seeker_id = ctx.profile.seeker_id
        found = lookup_of(ctx).applications(seeker_id) if seeker_id is not None else []
        if not found:
            return Turn(ended(state, {"1": "find_jobs"}), (reply("status_none", "1 Jobs"),))
        language = ctx.profile.language
        lines = [
            render(
                "status_line",
                language,
                reference=item.reference,
                title=clip(item.title_for(language), CLIP["title"]),
                stage=render(f"stage_{item.stage}", language),
                date=day_month(item.stage_changed_at, ctx),
            )
            for item in found[:SHOWN]
        ]
        more = len(found) - SHOWN
        key = "status_list_more" if more > 0 else "status_list"
        return Turn(ended(state), (reply(key, status_lines="\n".join(lines), more=more),))
