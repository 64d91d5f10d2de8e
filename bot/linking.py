"""One seeker, two channels: a chat that shares a phone number joins the seeker of that phone."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Application, Contact, FairSubscription, Seeker
from nlu.parse import Entity, Parse


@dataclass(frozen=True)
class Linked:
    """What sharing a phone number did: joined, saved, already there, or refused (taken)."""

    outcome: str
    phone: str


def link_shared_phone(session: Session, contact: Contact, parse: Parse) -> Parse:
    """Link the chat to the seeker of a shared phone; the parse says how (entity "linked")."""
    phone = parse.entity("phone") if parse.intent == "share_phone" else None
    if not phone:
        return parse
    linked = link_phone(session, contact, phone)
    return replace(parse, entities=(*parse.entities, Entity("linked", linked.outcome)))


def link_phone(session: Session, contact: Contact, phone: str) -> Linked:
    """Link this contact to the seeker with this E.164 phone, merging an empty profile away."""
    current = contact.seeker
    if current.phone == phone:
        return Linked("same", phone)
    owner = session.scalar(select(Seeker).where(Seeker.phone == phone))
    if owner is None:
        current.phone = phone
        return Linked("saved", phone)
    if current.registered_at is None:
        absorb(session, keep=owner, gone=current)
        return Linked("joined", phone)
    if owner.registered_at is None:
        owner.phone = None
        session.flush()
        absorb(session, keep=current, gone=owner)
        current.phone = phone
        return Linked("saved", phone)
    return Linked("taken", phone)


def absorb(session: Session, *, keep: Seeker, gone: Seeker) -> None:
    """Move gone's contacts, applications and fair alerts to keep, then delete gone."""
    for other in list(gone.contacts):
        other.seeker = keep
    applied = set(
        session.scalars(select(Application.job_id).where(Application.seeker_id == keep.id))
    )
    for application in session.scalars(
        select(Application).where(Application.seeker_id == gone.id)
    ).all():
        if application.job_id in applied:
            session.delete(application)
        else:
            application.seeker_id = keep.id
    joined = set(
        session.scalars(
            select(FairSubscription.fair_id).where(FairSubscription.seeker_id == keep.id)
        )
    )
    for subscription in session.scalars(
        select(FairSubscription).where(FairSubscription.seeker_id == gone.id)
    ).all():
        if subscription.fair_id in joined:
            session.delete(subscription)
        else:
            session.add(
                FairSubscription(
                    seeker_id=keep.id,
                    fair_id=subscription.fair_id,
                    attending=subscription.attending,
                    created_at=subscription.created_at,
                )
            )
            session.delete(subscription)
    session.flush()
    session.delete(gone)
    session.flush()
