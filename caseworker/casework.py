"""What a caseworker does to applications and handoffs (shared by the CLI and the dashboard)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, union_all
from sqlalchemy.orm import Session

from db.models import Application, Contact, Conversation, Handoff, JobPost, Message, Seeker
from db.phones import BadPhone, normalize_phone
from db.problems import Problem
from flows.catalogue import render
from flows.views import STAGES
from notify import outbox
from notify.sms import make_sms_safe, segments

MAX_SEGMENTS = 3


class CaseworkError(Problem):
    """A caseworker's request that cannot be done; the message says why in one line."""


def real_seeker(seeker_id: Any) -> ColumnElement[bool]:
    """The row is not a test seeker's: the few test ids, not a join over every seeker."""
    tests = select(Seeker.id).where(Seeker.is_test.is_(True))
    wanted: ColumnElement[bool] = seeker_id.not_in(tests)
    return wanted


def real_contact(contact_id: Any) -> ColumnElement[bool]:
    """The row is not from a test seeker's contact (found from the few test seekers)."""
    tests = select(Contact.id).join(Seeker, Seeker.id == Contact.seeker_id)
    wanted: ColumnElement[bool] = contact_id.not_in(tests.where(Seeker.is_test.is_(True)))
    return wanted


def latest_contact(session: Session, seeker: Seeker) -> Contact | None:
    """The channel the seeker wrote from most recently (the first one if never); a contact
    opted out on its own (blocked, or its STOP) only when no other is left."""
    contacts = list(session.scalars(select(Contact).where(Contact.seeker_id == seeker.id)))
    if not contacts:
        return None
    return max(
        contacts,
        key=lambda c: (c.stopped is None, c.last_inbound_at is not None, c.last_inbound_at, c.id),
    )


def application_row(application: Application) -> dict[str, Any]:
    """An application for listing."""
    return {
        "reference": application.reference,
        "phone": application.seeker.phone,
        "name": application.seeker.name,
        "job_code": application.job.code,
        "title": application.job.title,
        "employer": application.job.employer,
        "stage": application.stage,
        "applied_at": application.created_at.isoformat(),
        "stage_changed_at": application.stage_changed_at.isoformat(),
    }


def list_applications(session: Session) -> list[dict[str, Any]]:
    """Every application, newest first."""
    query = select(Application).order_by(Application.created_at.desc(), Application.id.desc())
    return [application_row(a) for a in session.scalars(query)]


@dataclass(frozen=True)
class ApplicationCard:
    """An application as the board shows it."""

    reference: str
    seeker_id: int
    name: str | None
    phone: str | None
    job_code: str
    title: str
    employer: str
    stage: str
    stage_changed_at: datetime


@dataclass(frozen=True)
class StageColumn:
    """One column of the board: a stage, how many are in it, one page of the latest moved."""

    stage: str
    total: int
    cards: list[ApplicationCard]
    page: int = 1
    pages: int = 1


def stage_totals(session: Session) -> dict[str, int]:
    """How many applications are at each stage (test seekers left out)."""
    counts = session.execute(
        select(Application.stage, func.count())
        .where(real_seeker(Application.seeker_id))
        .group_by(Application.stage)
    ).all()
    return {stage: int(count) for stage, count in counts}


def board(
    session: Session, per_stage: int = 20, pages: Mapping[str, int] | None = None
) -> list[StageColumn]:
    """One column per stage, newest moves first, per_stage cards from each column's page."""
    totals = stage_totals(session)
    shown = {}
    for stage in STAGES:
        last = max(1, -(-totals.get(stage, 0) // per_stage))
        shown[stage] = (min(max(1, (pages or {}).get(stage, 1)), last), last)
    newest = (Application.stage_changed_at.desc(), Application.id.desc())
    # Each column's page is found in the board index alone; then one query joins their cards.
    ids = [
        select(
            select(Application.id)
            .where(Application.stage == stage, real_seeker(Application.seeker_id))
            .order_by(*newest)
            .limit(per_stage)
            .offset((page - 1) * per_stage)
            .subquery()
        )
        for stage, (page, _) in shown.items()
    ]
    rows = session.execute(
        select(Application, Seeker, JobPost)
        .join(Seeker, Seeker.id == Application.seeker_id)
        .join(JobPost, JobPost.id == Application.job_id)
        .where(Application.id.in_(union_all(*ids)))
        .order_by(*newest)
    ).all()
    columns = []
    for stage, (page, last) in shown.items():
        cards = [
            ApplicationCard(
                application.reference,
                seeker.id,
                seeker.name,
                seeker.phone,
                job.code,
                job.title,
                job.employer,
                application.stage,
                application.stage_changed_at,
            )
            for application, seeker, job in rows
            if application.stage == stage
        ]
        columns.append(StageColumn(stage, totals.get(stage, 0), cards, page, last))
    return columns


def set_stage(session: Session, reference: str, stage: str, now: datetime) -> Application:
    """Move an application to a stage and queue one text telling the seeker."""
    stage = stage.strip().lower().replace(" ", "_").replace("-", "_")
    if stage not in STAGES:
        raise CaseworkError(
            f"unknown stage {stage!r}; use one of: {', '.join(STAGES)}",
            "unknown_stage",
            given=stage,
        )
    application = session.scalar(
        select(Application).where(Application.reference == reference.strip().upper())
    )
    if application is None:
        raise CaseworkError(
            f"no application with reference {reference!r}", "no_application", given=reference
        )
    if application.stage == stage:
        return application
    application.stage = stage
    application.stage_changed_at = now
    seeker = application.seeker
    contact = latest_contact(session, seeker)
    if contact is not None and not outbox.opted_out(contact):
        language = seeker.language
        text = render(
            "application_update",
            language,
            reference=application.reference,
            title=application.job.title[:40],
            stage=render(f"stage_{stage}", language),
        )
        outbox.queue(
            session,
            contact=contact,
            text=text,
            kind="update",
            idempotency_key=f"stage:{application.reference}:{stage}:{now.isoformat()}",
            now=now,
        )
    session.flush()
    return application


@dataclass(frozen=True)
class OpenHandoff:
    """A seeker waiting for a person."""

    phone: str
    name: str | None
    channel: str
    opened_at: datetime
    reason: str
    last_message: str
    seeker_id: int
    language: str
    is_test: bool


def waiting_count(session: Session) -> int:
    """How many handoffs are open (test seekers' too: a trainee may be waiting)."""
    query = select(func.count()).select_from(Handoff).where(Handoff.status == "open")
    return int(session.scalar(query) or 0)


def open_handoffs(session: Session, limit: int | None = None, offset: int = 0) -> list[OpenHandoff]:
    """Open handoffs, oldest first, with the seeker's last message (two queries); or a page."""
    query = (
        select(
            Handoff.opened_at,
            Handoff.reason,
            Contact.id.label("contact_id"),
            Contact.channel,
            Contact.address,
            Seeker.id.label("seeker_id"),
            Seeker.phone,
            Seeker.name,
            Seeker.language,
            Seeker.is_test,
        )
        .join(Contact, Contact.id == Handoff.contact_id)
        .join(Seeker, Seeker.id == Contact.seeker_id)
        .where(Handoff.status == "open")
        .order_by(Handoff.opened_at, Handoff.id)
        .offset(offset)
    )
    waiting = session.execute(query.limit(limit) if limit is not None else query).all()
    newest = (
        select(func.max(Message.id))
        .where(Message.contact_id.in_({row.contact_id for row in waiting}))
        .where(Message.direction == "in")
        .group_by(Message.contact_id)
    )
    last = dict(
        session.execute(
            select(Message.contact_id, Message.text).where(Message.id.in_(newest))
        ).all()
    )
    return [
        OpenHandoff(
            phone=row.phone or row.address,
            name=row.name,
            channel=row.channel,
            opened_at=row.opened_at,
            reason=row.reason,
            last_message=last.get(row.contact_id, ""),
            seeker_id=row.seeker_id,
            language=row.language,
            is_test=row.is_test,
        )
        for row in waiting
    ]


def _seeker_by_phone(session: Session, phone: str, region: str) -> Seeker:
    try:
        address = normalize_phone(phone, region)
    except BadPhone:
        address = phone.strip()
    seeker = session.scalar(select(Seeker).where(Seeker.phone == address))
    if seeker is None:
        contact = session.scalar(select(Contact).where(Contact.address == phone.strip()))
        seeker = contact.seeker if contact is not None else None
    if seeker is None:
        raise CaseworkError(f"no seeker with phone {phone!r}", "no_seeker_phone", given=phone)
    return seeker


def _open_handoff(session: Session, seeker: Seeker) -> Handoff:
    contact_ids = [c.id for c in seeker.contacts]
    handoff = session.scalar(
        select(Handoff)
        .where(Handoff.contact_id.in_(contact_ids), Handoff.status == "open")
        .order_by(Handoff.opened_at.desc())
    )
    if handoff is None:
        raise CaseworkError("this seeker has no open request for a person", "not_waiting")
    return handoff


def reply_to_seeker(session: Session, phone: str, text: str, region: str, now: datetime) -> None:
    """Send a caseworker's words to the seeker with this phone (the CLI's `handoff reply`)."""
    if not " ".join(text.split()):
        raise CaseworkError("the reply is empty", "reply_empty")
    reply(session, _seeker_by_phone(session, phone, region), text, now)


def reply(session: Session, seeker: Seeker, text: str, now: datetime) -> None:
    """Send a caseworker's words to a waiting seeker through the channel they last used."""
    text = " ".join(text.split())
    if not text:
        raise CaseworkError("the reply is empty", "reply_empty")
    _open_handoff(session, seeker)
    contact = latest_contact(session, seeker)
    assert contact is not None
    if outbox.opted_out(contact):
        raise CaseworkError(
            "this seeker sent STOP (or blocked every channel) and gets no texts", "seeker_stopped"
        )
    message = render("caseworker_says", seeker.language, text=text)
    if segments(make_sms_safe(message)) > MAX_SEGMENTS:
        raise CaseworkError(
            f"the reply is longer than {MAX_SEGMENTS} text messages; shorten it",
            "reply_long",
            limit=MAX_SEGMENTS,
        )
    outbox.queue(
        session,
        contact=contact,
        text=message,
        kind="caseworker",
        idempotency_key=f"caseworker:{uuid.uuid4().hex}",
        now=now,
    )
    session.flush()


def close_handoff(session: Session, phone: str, region: str, now: datetime) -> None:
    """Close the request of the seeker with this phone (the CLI's `handoff close`)."""
    close(session, _seeker_by_phone(session, phone, region), now)


def close(session: Session, seeker: Seeker, now: datetime) -> None:
    """Close the request, hand the seeker back to the bot, and tell them."""
    handoff = _open_handoff(session, seeker)
    handoff.status = "closed"
    handoff.closed_at = now
    for each in seeker.contacts:
        conversation = session.get(Conversation, each.id)
        if conversation is not None and conversation.flow == "handoff":
            conversation.flow = None
            conversation.step = None
            conversation.answers = {}
            conversation.misses = 0
            conversation.updated_at = now
    contact = latest_contact(session, seeker)
    if contact is not None and not outbox.opted_out(contact):
        outbox.queue(
            session,
            contact=contact,
            text=render("handoff_closed", seeker.language),
            kind="caseworker",
            idempotency_key=f"handoff-closed:{handoff.id}",
            now=now,
        )
    session.flush()
