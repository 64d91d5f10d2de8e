"""Storage for what a turn decided: one match over the flows' effects, in the turn's transaction."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import (
    Application,
    Broadcast,
    Contact,
    ContactStop,
    FairSubscription,
    Handoff,
    JobFair,
    JobPost,
    OutboxMessage,
    Seeker,
)
from flows.effects import (
    ApplyJob,
    AttendFair,
    Effect,
    JoinFair,
    OpenHandoff,
    OptIn,
    OptOut,
    SaveProfile,
    SetLanguage,
)
from notify import outbox


@dataclass
class EffectContext:
    """What an effect may touch: the session, the contact and seeker, the time."""

    session: Session
    contact: Contact
    seeker: Seeker
    now: datetime


def apply(ctx: EffectContext, effect: Effect) -> None:
    """Make the change one effect asks for."""
    match effect:
        case SaveProfile():
            save_profile(ctx, effect)
        case OptOut():
            # Nothing more but the confirmation (queued after this, so it is not cancelled);
            # this contact stays stopped until it says START itself (notify/outbox.py).
            ctx.seeker.opted_out = True
            ctx.contact.stopped = ContactStop.STOP
            outbox.cancel_queued(ctx.session, ctx.seeker.id)
        case OptIn():
            ctx.seeker.opted_out = False
            ctx.contact.stopped = None
        case OpenHandoff(reason=reason):
            open_handoff(ctx, reason)
        case AttendFair():
            attend_fair(ctx)
        case SetLanguage(language=language):
            ctx.seeker.language = language
        case ApplyJob(job_id=job_id, reference=reference):
            apply_job(ctx, job_id, reference)
        case JoinFair(fair_id=fair_id):
            join_fair(ctx, fair_id)


def save_profile(ctx: EffectContext, profile: SaveProfile) -> None:
    """Store registration answers; the first time, mark the seeker registered."""
    seeker = ctx.seeker
    for field in fields(SaveProfile):
        value = getattr(profile, field.name)
        if field.name == "register" or value is None:
            continue
        setattr(seeker, field.name, list(value) if isinstance(value, tuple) else value)
    if profile.register and seeker.registered_at is None:
        seeker.registered_at = ctx.now


def open_handoff(ctx: EffectContext, reason: str) -> None:
    """Record that the seeker asked for a person (one open request at a time)."""
    existing = ctx.session.scalar(
        select(Handoff).where(Handoff.contact_id == ctx.contact.id, Handoff.status == "open")
    )
    if existing is None:
        ctx.session.add(Handoff(contact_id=ctx.contact.id, reason=reason, opened_at=ctx.now))


def attend_fair(ctx: EffectContext) -> None:
    """1/YES to a fair alert: the seeker will come to the fair they were last alerted about."""
    fair_id = ctx.session.scalar(
        select(Broadcast.fair_id)
        .join(OutboxMessage, OutboxMessage.broadcast_id == Broadcast.id)
        .join(Contact, Contact.id == OutboxMessage.contact_id)
        .where(
            Contact.seeker_id == ctx.seeker.id,
            OutboxMessage.kind.in_(("alert", "reminder")),
            Broadcast.fair_id.is_not(None),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if fair_id is None:
        return
    subscription = ctx.session.get(FairSubscription, (ctx.seeker.id, fair_id))
    if subscription is None:
        subscription = FairSubscription(
            seeker_id=ctx.seeker.id, fair_id=fair_id, created_at=ctx.now
        )
        ctx.session.add(subscription)
    subscription.attending = True


def apply_job(ctx: EffectContext, job_id: int, reference: str) -> None:
    """Store an application at stage submitted, once per seeker and post."""
    job = ctx.session.get(JobPost, job_id)
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
            reference=reference,
            seeker_id=ctx.seeker.id,
            job_id=job.id,
            stage="submitted",
            created_at=ctx.now,
            stage_changed_at=ctx.now,
        )
    )
    ctx.session.flush()


def join_fair(ctx: EffectContext, fair_id: int) -> None:
    """Alerts (and the reminder the day before) for one fair."""
    fair = ctx.session.get(JobFair, fair_id)
    if fair is None or ctx.session.get(FairSubscription, (ctx.seeker.id, fair.id)) is not None:
        return
    ctx.session.add(FairSubscription(seeker_id=ctx.seeker.id, fair_id=fair.id, created_at=ctx.now))
    ctx.session.flush()
