"""`jobline fairs`, `jobline broadcast`, `jobline seekers import` and `jobline worker`."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from bot.cli_common import database_or_exit, settings_or_exit
from bot.logs import configure_logging
from caseworker import broadcasting
from caseworker.casework import CaseworkError
from caseworker.fairs import FairForm, list_fairs, save_fair
from db.models import utcnow
from db.session import transaction
from notify import broadcasts
from notify.fairs import local_time, reminders_due
from notify.unknown import requeue_unknown, unknown_rows

if TYPE_CHECKING:
    from bot.settings import Settings

fairs_app = typer.Typer(help="Job fairs: add, list, remind.", no_args_is_help=True)
broadcast_app = typer.Typer(
    help="Broadcast a fair or an announcement to a segment of seekers (report ID for results).",
    invoke_without_command=True,
)
outbox_app = typer.Typer(
    help="Messages whose fate is unknown after a crash: list them, send them again.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


@fairs_app.command("add")
def fairs_add(
    name: str = typer.Option(..., help="The fair's name."),
    starts: str = typer.Option(..., help='Local start time, "YYYY-MM-DD HH:MM".'),
    venue: str = typer.Option(..., help="Where it is."),
    district: str = typer.Option(..., help="The district it is in, e.g. Nangang."),
) -> None:
    """Add a job fair and print its id."""
    from reference import load_reference

    settings = settings_or_exit()
    form = FairForm(name=name, starts=starts, venue=venue, district=district)
    database = database_or_exit(settings)
    try:
        with transaction(database.sessions) as session:
            fair = save_fair(
                session,
                form,
                timezone=settings.notify.timezone,
                reference=load_reference(),
                now=utcnow(),
            )
            typer.echo(fair.id)
    except CaseworkError as error:
        raise _fail(str(error)) from None


@fairs_app.command("list")
def fairs_list(as_json: bool = typer.Option(False, "--json", help="One JSON array.")) -> None:
    """Every fair with its subscribers and how many will come (RSVP)."""

    settings = settings_or_exit()
    database = database_or_exit(settings)
    with database.sessions() as session:
        rows = [
            {
                "id": fair.id,
                "name": fair.name,
                "starts": fair.starts,
                "venue": fair.venue,
                "district": fair.district,
                "subscribers": fair.subscribers,
                "attending": fair.attending,
            }
            for fair in list_fairs(session, settings.notify.timezone)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>4}  {row['starts']:<18} {row['name']} ({row['venue']}, {row['district']})"
            f"  subscribers {row['subscribers']}, coming {row['attending']}"
        )


@fairs_app.command("remind")
def fairs_remind() -> None:
    """Queue reminders for fairs that start tomorrow (the worker also does this by itself)."""

    settings = settings_or_exit()
    database = database_or_exit(settings)
    for broadcast_id in reminders_due(database.sessions, settings, utcnow()):
        typer.echo(broadcast_id)


@broadcast_app.callback()
def broadcast(
    ctx: typer.Context,
    fair: int | None = typer.Option(None, help="Announce this fair (replies of 1/YES are RSVPs)."),
    text: str | None = typer.Option(None, help="Or: a free announcement."),
    segment: str = typer.Option(
        "all",
        help="all, district=NAME, interest=SLUG, group=4050, group=card, subscribers, fair.",
    ),
    at: str | None = typer.Option(None, help='Local send time "YYYY-MM-DD HH:MM" (default now).'),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only print the preview."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask to confirm."),
    as_json: bool = typer.Option(False, "--json", help="Print the preview as JSON."),
) -> None:
    """Preview, confirm, queue in batches with a progress bar, and print the broadcast id."""
    if ctx.invoked_subcommand is not None:
        return

    if (fair is None) == (text is None):
        raise _fail("Give either --fair ID or --text TEXT.")
    settings = settings_or_exit()
    try:
        send_at = local_time(at, settings.notify.timezone) if at else utcnow()
    except ValueError as error:
        raise _fail(str(error)) from None
    database = database_or_exit(settings)
    with database.sessions() as session:
        try:
            chosen = broadcasting.draft(
                session,
                segment=segment,
                send_at=send_at,
                settings=settings,
                text=text,
                fair_id=fair,
            )
            found = broadcasting.preview(session, chosen, settings)
        except CaseworkError as error:
            raise _fail(str(error)) from None
    _print_preview(found, settings, as_json)
    if dry_run:
        return
    if found.found.recipients == 0:
        raise _fail("Nobody is in that segment; nothing queued.")
    if not yes and not typer.confirm(f"Send to {found.found.recipients} people?"):
        raise typer.Exit(1)
    with typer.progressbar(length=found.found.recipients, label="Queueing", file=sys.stderr) as bar:
        broadcast_id = broadcasting.send(
            database.sessions, chosen, settings, utcnow(), progress=bar.update
        )
    typer.echo(broadcast_id)


def _print_preview(shown: broadcasting.BroadcastPreview, settings: Settings, as_json: bool) -> None:
    found = shown.found
    if as_json:
        typer.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    price = settings.notify.price_per_segment
    channels = ", ".join(f"{name} {count}" for name, count in sorted(found.channels.items()))
    typer.echo(f"Segment {found.segment}: {found.recipients} people ({channels or 'none'})")
    local = shown.goes_at.astimezone(ZoneInfo(settings.notify.timezone))
    held = " (after the quiet hours)" if shown.held else ""
    typer.echo(f"Sends from {local:%a} {local.day} {local:%b} {local:%H:%M}{held}")
    for group in found.languages.values():
        typer.echo(
            f"[{group.language}] {group.recipients} people, {group.segments} SMS segment(s) each:"
        )
        typer.echo(f"  {group.text}")
    typer.echo(
        f"Estimated cost: {found.cost:.2f} yuan ({found.sms_segments} SMS segments at {price})"
    )


@broadcast_app.command("report")
def broadcast_report(
    broadcast_id: int = typer.Argument(..., metavar="ID"),
    fmt: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Counts of a broadcast's messages by status."""

    settings = settings_or_exit()
    database = database_or_exit(settings)
    with database.sessions() as session:
        try:
            found = broadcasts.report(session, broadcast_id)
        except ValueError as error:
            raise _fail(str(error)) from None
    if fmt == "json":
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    typer.echo(f"Broadcast {found['id']} ({found['segment']}, {found['status']}):")
    for status, count in found["counts"].items():
        typer.echo(f"  {status:<18} {count}")


@outbox_app.command("unknown")
def outbox_unknown(
    as_json: bool = typer.Option(False, "--json", help="One JSON array."),
) -> None:
    """Messages that were being sent when a worker stopped, on a channel that cannot be asked."""
    database = database_or_exit(settings_or_exit())
    with database.sessions() as session:
        rows = unknown_rows(session)
    if as_json:
        typer.echo(json.dumps([{**vars(r), "created_at": r.created_at.isoformat()} for r in rows]))
        return
    for row in rows:
        broadcast = f"broadcast {row.broadcast_id}" if row.broadcast_id else row.kind
        typer.echo(f"{row.id}  {broadcast}  {row.channel} {row.address}  {row.reason}")
    typer.echo(f"{len(rows)} unknown")


@outbox_app.command("requeue")
def outbox_requeue(
    broadcast_id: int | None = typer.Option(None, "--broadcast", metavar="ID"),
    everything: bool = typer.Option(False, "--all", help="Every unknown message."),
) -> None:
    """Send unknown messages again, after a person decided a second text is better than none."""
    if (broadcast_id is None) == (not everything):
        raise _fail("Say which: --broadcast ID or --all.")
    database = database_or_exit(settings_or_exit())
    with transaction(database.sessions) as session:
        count = requeue_unknown(session, utcnow(), broadcast_id)
    typer.echo(f"{count} queued again")


def seekers_import(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="FILE.csv"),
) -> None:
    """Import a registrant list: phone,name,district,language (+ alerts, birth_year, ...)."""
    from db.job_import import BadJobFile, decode
    from db.registrants import BadRow, import_registrants
    from flows.catalogue import languages
    from reference import load_reference

    settings = settings_or_exit()
    database = database_or_exit(settings)
    try:
        handle = io.StringIO(decode(path.read_bytes()), newline="")
        result = import_registrants(
            database.sessions, handle, load_reference(), settings.phone_region, languages()
        )
    except (BadRow, BadJobFile) as error:
        raise _fail(f"Cannot import {path.name}: {error}") from None
    for line, reason in result.rejected:
        typer.echo(f"line {line}: {reason}", err=True)
    typer.echo(f"{result.added} added, {result.updated} updated, {len(result.rejected)} rejected")


def worker() -> None:
    """Send queued messages and fair reminders, without the web app (one or many machines)."""
    from bot.runtime import outbound_channels
    from notify.dispatcher import Dispatcher
    from notify.service import deliver_until_stopped

    settings = settings_or_exit()
    configure_logging()
    database = database_or_exit(settings)
    channels = outbound_channels(settings)
    if settings.sqlite_path is not None:
        typer.echo("SQLite: run one dispatcher only (this worker, or jobline run).", err=True)
    if not channels:
        typer.echo(
            "No outbound channel is on (twilio.account_sid, sms.android.api_url, telegram.token).",
            err=True,
        )
    dispatcher = Dispatcher(database.sessions, channels, settings)
    # Not asyncio.run: its cleanup waits for every task, and a task stuck past the stop's
    # grace (see deliver_until_stopped) would hold the worker up again.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(deliver_until_stopped(dispatcher, settings))
    finally:
        dispatcher.close()
        loop.close()
