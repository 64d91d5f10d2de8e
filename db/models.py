"""SQLAlchemy 2.0 typed models: seekers, their channels, messages, jobs, fairs, the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Partial indexes' conditions: a caseworker's test seeker, and every real one.
TEST = text("is_test IS true")
REAL = text("is_test IS false")


class Base(DeclarativeBase):
    """Declarative base with JSON mapped for dict/list columns."""

    type_annotation_map = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime,
    }


class Place(Base):
    """A city, district or county seekers name (from reference/reference.yaml)."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(80))
    lat: Mapped[float | None]
    lon: Mapped[float | None]


class JobCategory(Base):
    """A kind of work, by slug (cleaning, security, ...)."""

    __tablename__ = "job_categories"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Seeker(Base):
    """A person looking for work: the profile shared by all their channels."""

    __tablename__ = "seekers"
    # Also, on PostgreSQL with pg_trgm: GIN on lower(name) and phone (migration dashperf_1).
    __table_args__ = (
        Index("ix_seekers_district", "district"),
        Index("ix_seekers_test", "id", postgresql_where=TEST, sqlite_where=TEST),
        Index(
            "ix_seekers_real_district",
            "district",
            "registered_at",
            postgresql_where=REAL,
            sqlite_where=REAL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    birth_year: Mapped[int | None]
    gender: Mapped[str | None] = mapped_column(String(10))
    district: Mapped[str | None] = mapped_column(String(80))
    interests: Mapped[list[str]] = mapped_column(default=list)
    concession_card: Mapped[bool | None]
    laid_off: Mapped[bool | None]
    language: Mapped[str] = mapped_column(String(8), default="en")
    alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # A caseworker's pretend seeker ("Try it"): left out of counts, exports and broadcasts.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    registered_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contacts: Mapped[list[Contact]] = relationship(back_populates="seeker")


class ContactStop(StrEnum):
    """Why one contact gets nothing more while the seeker's other channels still do."""

    STOP = "stop"  # STOP from this number or chat (ours or the carrier's): until it says START
    BLOCKED = "blocked"  # the provider cannot reach it (Telegram blocked, WeChat unfollowed)


class Contact(Base):
    """One channel address (an SMS number, a Telegram chat) that reaches a seeker."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_inbound_at: Mapped[datetime | None]
    # The office phone (SMS gateway device) this contact last wrote to; replies go through it.
    device: Mapped[str | None] = mapped_column(String(40))
    # A ContactStop when this contact is opted out on its own (None: it is reachable).
    stopped: Mapped[str | None] = mapped_column(String(10))

    seeker: Mapped[Seeker] = relationship(back_populates="contacts")


class Message(Base):
    """A message in or out, as the provider saw it."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        Index("ix_messages_contact_created", "contact_id", "created_at"),
        # The Overview's messages per day.
        Index("ix_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    segments: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # text, command, contact, foreign_contact, location or media: how to read `text` again.
    kind: Mapped[str] = mapped_column(String(20), default="text", server_default="text")
    # Why its turn failed (status `failed`): the seeker was told to try again.
    error: Mapped[str | None] = mapped_column(Text)


class Conversation(Base):
    """Where a contact is in a conversation; version guards against lost updates."""

    __tablename__ = "conversations"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    misses: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class JobPost(Base):
    """A job a seeker can apply for; public-welfare posts are government-funded."""

    __tablename__ = "job_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    employer: Mapped[str] = mapped_column(String(120))
    # What Chinese-speaking seekers read; empty: the title and employer above.
    title_zh: Mapped[str | None] = mapped_column(String(120))
    employer_zh: Mapped[str | None] = mapped_column(String(120))
    hours_zh: Mapped[str | None] = mapped_column(String(80))
    suits_zh: Mapped[str | None] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(ForeignKey("job_categories.slug"))
    place: Mapped[str] = mapped_column(String(80), index=True)
    pay_yuan_month: Mapped[int]
    hours: Mapped[str] = mapped_column(String(80))
    suits: Mapped[str] = mapped_column(String(160))
    public_welfare: Mapped[bool] = mapped_column(Boolean, default=False)
    openings: Mapped[int] = mapped_column(Integer, default=1)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Application(Base):
    """A seeker's application for a post, with its reference code and stage."""

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("seeker_id", "job_id"),
        Index("ix_applications_board", "stage", "stage_changed_at", "id", "seeker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job_posts.id"))
    stage: Mapped[str] = mapped_column(String(20), default="submitted")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[JobPost] = relationship()
    seeker: Mapped[Seeker] = relationship()


class JobFair(Base):
    """A job fair seekers can attend."""

    __tablename__ = "job_fairs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    starts_at: Mapped[datetime]
    venue: Mapped[str] = mapped_column(String(160))
    district: Mapped[str] = mapped_column(String(80))
    employers: Mapped[int] = mapped_column(Integer, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FairSubscription(Base):
    """A seeker who asked for alerts about a fair (JOIN), and whether they will attend."""

    __tablename__ = "fair_subscriptions"
    __table_args__ = (
        Index(
            "ix_fair_subscriptions_people",
            "fair_id",
            text("attending DESC"),
            "created_at",
            "seeker_id",
        ),
    )

    seeker_id: Mapped[int] = mapped_column(ForeignKey("seekers.id"), primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("job_fairs.id"), primary_key=True)
    attending: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handoff(Base):
    """A seeker's request to talk to a person; open until a caseworker closes it."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Broadcast(Base):
    """A caseworker's announcement to a segment of seekers."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("job_fairs.id"))
    text: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), default="announcement")
    send_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="queueing")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxStatus(StrEnum):
    """Where an outbox row is: waiting, on the wire, at the provider, or given up."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    SKIPPED_OPTED_OUT = "skipped_opted_out"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    HELD = "held"  # kept until the seeker next writes (WeChat's 48 hours had passed)


class OutboxMessage(Base):
    """One message to send, written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before"),
        Index("ix_outbox_created_at", "created_at"),
        # A broadcast's counts by status (its page and the Overview's funnels).
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # A button is its label, or {"label", "asks"} for a share button (notify/outbox.py).
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(20), default="reply")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class EarlyReport(Base):
    """A provider's delivery report that came before its message's provider id was stored.

    The dispatcher applies it when it records the send with that id (notify/outbox.py).
    """

    __tablename__ = "early_reports"

    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str] = mapped_column(Text, default="")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(index=True)


class Staff(Base):
    """A caseworker or admin who signs in to the dashboard."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="caseworker")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped when the account is disabled or its password changes: older sessions stop working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LoginFailure(Base):
    """A failed sign-in for an email (known or not), counted to refuse guessing."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime]


class LinkCode(Base):
    """A code texted to a phone, to link a chat with no number (WeChat) to that phone's seeker."""

    __tablename__ = "link_codes"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(Integer, default=0)


class ProviderToken(Base):
    """An access token a provider issues for a while (WeChat's), shared by every process."""

    __tablename__ = "provider_tokens"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(600), default="")
    expires_at: Mapped[datetime]
    refreshing_until: Mapped[datetime | None]


class AuditEntry(Base):
    """One change made from the dashboard: who, when, what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    staff_email: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
