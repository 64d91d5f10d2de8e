"""Effects of the seeker services: an application, a fair's alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.effects import EffectContext, effect
from db.models import Application, FairSubscription, JobFair, JobPost


@effect("apply_job")
def apply_job(ctx: EffectContext, data: dict[str, Any]) -> None:
    """Store an application at stage submitted, once per seeker and post."""
    job = ctx.session.get(JobPost, data["job_id"])
    if job is None or job.status != "open":
        return
    existing = ctx.session.scalar(
        select(Application).where(
            Application.seeker_id == ctx.seeker.id, Application.job_id == job.id
        )
    )
    if existing is not None:
        return
    ctx.session.add(
        Application(
            reference=data["reference"],
            seeker_id=ctx.seeker.id,
            job_id=job.id,
            stage="submitted",
            created_at=ctx.now,
            stage_changed_at=ctx.now,
        )
    )
    ctx.session.flush()


@effect("join_fair")
def join_fair(ctx: EffectContext, data: dict[str, Any]) -> None:
    """Alerts (and the reminder the day before) for one fair."""
    fair = ctx.session.get(JobFair, data["fair_id"])
    if fair is None or ctx.session.get(FairSubscription, (ctx.seeker.id, fair.id)) is not None:
        return
    ctx.session.add(FairSubscription(seeker_id=ctx.seeker.id, fair_id=fair.id, created_at=ctx.now))
    ctx.session.flush()
