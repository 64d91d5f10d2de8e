"""Storage for what a turn decided: each Effect kind has one handler, run in the turn's txn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Contact, Handoff, OutboxMessage, Seeker
from notify import outbox


@dataclass
class EffectContext:
    """What an effect handler may touch: the session, the contact and seeker, the time."""

    session: Session
    contact: Contact
    seeker: Seeker
    now: datetime
    settings: Any


EffectHandler = Callable[[EffectContext, dict[str, Any]], None]
EFFECTS: dict[str, EffectHandler] = {}


def effect(kind: str) -> Callable[[EffectHandler], EffectHandler]:
    """Register the handler for one kind of effect."""

    def register(handler: EffectHandler) -> EffectHandler:
        EFFECTS[kind] = handler
        return handler

    return register


@effect("save_profile")
def save_profile(ctx: EffectContext, data: dict[str, Any]) -> None:
    """Store registration answers; the first time, mark the seeker registered."""
    fields = dict(data)
    register = fields.pop("register", False)
    for name, value in fields.items():
        setattr(ctx.seeker, name, value)
    if register and ctx.seeker.registered_at is None:
        ctx.seeker.registered_at = ctx.now


@effect("opt_out")
def opt_out(ctx: EffectContext, data: dict[str, Any]) -> None:
    """STOP: nothing more but the confirmation (queued after this, so it is not cancelled)."""
    ctx.seeker.opted_out = True
    outbox.cancel_queued(ctx.session, ctx.seeker.id)


@effect("opt_in")
def opt_in(ctx: EffectContext, data: dict[str, Any]) -> None:
    """START: texts again."""
    ctx.seeker.opted_out = False


@effect("open_handoff")
def open_handoff(ctx: EffectContext, data: dict[str, Any]) -> None:
    """Record that the seeker asked for a person (one open request at a time)."""
    existing = ctx.session.scalar(
        select(Handoff).where(Handoff.contact_id == ctx.contact.id, Handoff.status == "open")
    )
    if existing is None:
        ctx.session.add(
            Handoff(contact_id=ctx.contact.id, reason=data.get("reason", ""), opened_at=ctx.now)
        )


@effect("fair_rsvp")
def fair_rsvp(ctx: EffectContext, data: dict[str, Any]) -> None:
    """1/YES to a fair alert: the seeker will come to the fair they were last alerted about."""
    from db.models import Broadcast, FairSubscription

    fair_id = data.get("fair_id") or ctx.session.scalar(
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


@effect("set_language")
def set_language(ctx: EffectContext, data: dict[str, Any]) -> None:
    """The language the seeker's texts are written in from now on."""
    ctx.seeker.language = data["language"]
