"""The path of one inbound message: store it, take the turn, write replies to the outbox."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot import phone_codes
from bot import turn_rows as rows
from bot.channels.base import LEFT, InboundMessage, printable
from bot.effects import EffectContext, apply
from bot.first_text import store_first_text
from bot.linking import link_shared_phone
from bot.lookup import StoreLookup
from bot.phone_codes import CODE_LINKED, CodeStep
from bot.settings import Settings
from db.fast import Fast, connection_of
from db.models import Contact, ContactStop, Conversation, Message, Seeker, utcnow
from db.phones import mobile_phone, normalize_phone
from db.session import (
    CONTACT_TURNS,
    insert_new,
    light,
    lightly,
    one_at_a_time,
    read_once,
    reading,
    transaction,
)
from flows.catalogue import local_buttons, render
from flows.engine import expecting, run_turn
from flows.types import Context, Profile, Reply, State, Turn
from nlu.kinds import parse_kind
from nlu.parse import Parse
from nlu.understand import Understander
from notify import outbox
from notify.dispatcher import Claimed
from notify.express import Express
from reference import Reference, load_reference

log = logging.getLogger(__name__)
PHONE_CHANNELS = {"sms", "console"}
# PostgreSQL stores a phone number's text by one statement: a known contact's, or a first text's
# that makes its seeker and contact too. An address this process stored a text of tries the
# known contact's first; any other the first text's, so a new number's text is one round trip,
# not two. When this many addresses are kept they are forgotten: each then pays the second
# round trip once (as after a restart).
MOST_KNOWN_ADDRESSES = 100_000
MAX_STORED_TEXT = 10_000
TURN_ATTEMPTS = 4
STORE_ATTEMPTS = 5
# A dropped connection is tried again after this, doubling each time.
RETRY_PAUSE_SECONDS = 0.2
MAX_ERROR = 500
PROVIDER_KEYWORDS = {"stop", "start", "help"}
# A new seeker on these channels is answered in this language until they choose (WeChat is
# mainland China's chat app).
FIRST_LANGUAGE = {"wechat": "zh"}


@dataclass(frozen=True)
class Received:
    """An inbound message stored, and whether it was a provider's retry of one we had."""

    contact_id: int
    message_id: int
    duplicate: bool = False


@dataclass(frozen=True)
class Older:
    """A turn's answer when the contact has an older message still waiting: that one first."""

    message_id: int


def profile_of(seeker: Seeker, contact: Contact | None = None) -> Profile:
    """A read-only snapshot of a seeker, as seen from the contact that wrote, for the flows."""
    return Profile(
        seeker_id=seeker.id,
        phone=seeker.phone,
        name=seeker.name,
        birth_year=seeker.birth_year,
        gender=seeker.gender,
        district=seeker.district,
        interests=tuple(seeker.interests or ()),
        concession_card=seeker.concession_card,
        laid_off=seeker.laid_off,
        language=seeker.language,
        alerts=seeker.alerts,
        opted_out=seeker.opted_out if contact is None else outbox.opted_out(contact),
        registered=seeker.registered_at is not None,
    )


def render_reply(item: Reply, language: str) -> str:
    """A reply's text from the catalogue; values that are replies are rendered first."""
    values = {
        key: render_reply(value, language) if isinstance(value, Reply) else value
        for key, value in item.values.items()
    }
    return render(item.key, language, **values)


def find_or_create_contact(
    session: Session, channel: str, address: str, settings: Settings, now: datetime
) -> Contact:
    """The contact for a channel address; a phone address shares the seeker of that phone."""
    contact = session.get(Contact, contact_for(session, channel, address, settings, now).id)
    assert contact is not None
    return contact


def seeker_columns(channel: str, settings: Settings, now: datetime) -> dict[str, Any]:
    """A new seeker's columns, made by a first text on this channel."""
    return {
        "language": FIRST_LANGUAGE.get(channel, settings.default_language),
        "interests": [],
        "created_at": now,
    }


def contact_for(
    session: Session, channel: str, address: str, settings: Settings, now: datetime
) -> Any:
    """The contact's id, stop and office phone for a channel address, made if new.

    Race-safe: two first texts from one new number at once both get the same seeker and
    contact (insert ... on conflict do nothing, then select), never a unique violation.
    """
    found = rows.contact_by_address(session, channel, address)
    if found is not None:
        return found
    new_seeker = seeker_columns(channel, settings, now)
    if channel in PHONE_CHANNELS:
        return rows.new_phone_contact(session, channel, address, new_seeker, None)
    seeker = Seeker(**new_seeker)
    session.add(seeker)
    session.flush()
    values = {"channel": channel, "address": address, "seeker_id": seeker.id, "created_at": now}
    if not insert_new(session, Contact, values, ["channel", "address"]):
        # Another request made this chat's contact first: our new seeker is nobody's.
        session.delete(seeker)
        session.flush()
    found = rows.contact_by_address(session, channel, address)
    assert found is not None
    return found


class Jobline:
    """Receives messages, runs turns, and writes replies to the outbox."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        understander: Understander | None = None,
        clock: Callable[[], datetime] = utcnow,
        reference: Reference | None = None,
        lookup_factory: Callable[[Session], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.understander = understander or Understander()
        self.clock = clock
        self.reference = reference or load_reference()
        self.lookup_factory = lookup_factory or StoreLookup
        self.on_reply: list[Callable[[], None]] = []
        # Sends a turn's replies as soon as it commits (notify/express.py), when delivery runs
        # in this process; without it the dispatcher sends them.
        self.express: Express | None = None
        # Contact id -> its lock and how many turns hold or wait for it (dropped at 0, so a
        # process that served a million contacts does not keep a million locks).
        self._locks: dict[int, tuple[threading.Lock, int]] = {}
        self._locks_guard = threading.Lock()
        self.postgres = sessions.kw["bind"].dialect.name == "postgresql"
        # PostgreSQL: the phone addresses this process stored a text of (see MOST_KNOWN_ADDRESSES).
        self._known_addresses: set[tuple[str, str]] = set()

    def address_for(self, channel: str, address: str) -> str:
        """Phone channels use E.164; others keep their own ids."""
        if channel == "sms":
            return mobile_phone(address, self.settings.phone_region)
        if channel in PHONE_CHANNELS:
            return normalize_phone(address, self.settings.phone_region)
        return address

    def receive(self, inbound: InboundMessage) -> Received:
        """Store an inbound message (once per provider id) before anything else happens.

        A connection the database dropped mid-way (a restart, pg_terminate_backend) is tried
        again on a fresh one: a provider may never send the message again.
        """
        for attempt in range(STORE_ATTEMPTS):
            try:
                return self._store(inbound)
            except OperationalError:
                if attempt == STORE_ATTEMPTS - 1:
                    raise
                log.info("storing a message retried (attempt %d): connection lost", attempt)
                time.sleep(RETRY_PAUSE_SECONDS * 2**attempt)
        raise AssertionError("unreachable")

    def _store(self, inbound: InboundMessage) -> Received:
        address = self.address_for(inbound.channel, inbound.address)
        now = self.clock()
        text = printable(inbound.text[:MAX_STORED_TEXT])
        if self.postgres and inbound.kind != LEFT:  # most texts: one statement, no transaction
            values = {
                "channel": inbound.channel,
                "address": address,
                "provider_id": inbound.external_id,
                "text": text,
                "kind": inbound.kind,
                "created_at": now,
            }
            stored = self._store_in_one(inbound, values)
            if stored is not None:
                return Received(stored.contact_id, stored.id)
        try:
            if not self.postgres and inbound.kind != LEFT:  # most texts: no ORM session
                known = self._store_known(inbound, address, text, now)
                if known is not None:
                    return known
            with transaction(self.sessions) as session:
                if inbound.external_id is not None:
                    seen = rows.seen_message(session, inbound.channel, inbound.external_id)
                    if seen is not None:
                        return Received(seen.contact_id, seen.id, duplicate=True)
                contact = contact_for(session, inbound.channel, address, self.settings, now)
                contact_id, stopped, device = contact.id, contact.stopped, contact.device
                changes: dict[str, Any] = {}
                if inbound.device is not None and inbound.device != device:
                    changes["device"] = inbound.device
                status = "received"
                if inbound.kind == LEFT:
                    # The seeker left this chat: only this contact stops (a STOP it said stays).
                    status = "handled"
                    if stopped not in (ContactStop.STOP, ContactStop.BLOCKED):
                        changes["stopped"] = ContactStop.BLOCKED
                elif stopped == ContactStop.BLOCKED:
                    changes["stopped"] = None  # its provider brought its words: it can bring ours
                rows.change_contact(session, contact_id, changes)
                message_id = rows.add_message(
                    session,
                    {
                        "contact_id": contact_id,
                        "channel": inbound.channel,
                        "direction": "in",
                        "provider_id": inbound.external_id,
                        "text": text,
                        "status": status,
                        "kind": inbound.kind,
                        "segments": 1,
                        "created_at": now,
                    },
                )
                return Received(contact_id, message_id)
        except IntegrityError:
            # The same provider id arrived twice at once; the other request stored it.
            if inbound.external_id is None:
                raise
            with transaction(self.sessions) as session:
                seen = rows.seen_message(session, inbound.channel, inbound.external_id)
                if seen is None:
                    raise
                return Received(seen.contact_id, seen.id, duplicate=True)

    def _store_in_one(self, inbound: InboundMessage, values: dict[str, Any]) -> Any:
        """PostgreSQL: store the text by one statement, a known contact's or, for a phone
        number, a first text's (the one its address likely needs tried first); the message's
        contact id and id, or None when the full store must decide."""
        engine = self.sessions.kw["bind"]

        def known() -> Any:
            return rows.store_known(engine, values, inbound.device)

        if inbound.channel not in PHONE_CHANNELS:
            return known()

        def first() -> Any:  # its seeker and contact as contact_for makes them
            seeker = seeker_columns(inbound.channel, self.settings, values["created_at"])
            return store_first_text(engine, values, seeker, inbound.device)

        address = (inbound.channel, values["address"])
        for attempt in (known, first) if address in self._known_addresses else (first, known):
            stored = attempt()
            if stored is not None:
                if len(self._known_addresses) >= MOST_KNOWN_ADDRESSES:
                    self._known_addresses.clear()
                self._known_addresses.add(address)
                return stored
        return None

    def _store_known(
        self, inbound: InboundMessage, address: str, text: str, now: datetime
    ) -> Received | None:
        """SQLite: store a text in a transaction without an ORM session when it changes nothing
        on a known contact (not blocked, the same office phone), or is a new phone number's
        first (its seeker and contact made as contact_for makes them); None when the full
        store must decide (any other new contact, a blocked one, a new office phone)."""
        with light(self.sessions.kw["bind"]) as connection:
            if inbound.external_id is not None:
                seen = rows.seen_message(connection, inbound.channel, inbound.external_id)
                if seen is not None:
                    return Received(seen.contact_id, seen.id, duplicate=True)
            contact = rows.contact_by_address(connection, inbound.channel, address)
            if contact is None and inbound.channel in PHONE_CHANNELS:
                seeker = seeker_columns(inbound.channel, self.settings, now)
                contact = rows.new_phone_contact(
                    connection, inbound.channel, address, seeker, inbound.device
                )
            if (
                contact is None
                or contact.stopped == ContactStop.BLOCKED
                or (inbound.device is not None and inbound.device != contact.device)
            ):
                return None
            message_id = rows.add_message(
                connection,
                {
                    "contact_id": contact.id,
                    "channel": inbound.channel,
                    "direction": "in",
                    "provider_id": inbound.external_id,
                    "text": text,
                    "status": "received",
                    "kind": inbound.kind,
                    "segments": 1,
                    "created_at": now,
                },
            )
            return Received(contact.id, message_id)

    def handle(self, inbound: InboundMessage) -> Received:
        """Store the message and take its turn."""
        received = self.receive(inbound)
        if not received.duplicate:
            self.take_turn(received, kind=inbound.kind)
        return received

    def resume(self, before: datetime | None = None) -> int:
        """Take the turns of messages stored but not handled (a crash or restart between)."""
        query = select(Message.contact_id, Message.id, Message.kind).where(
            Message.direction == "in", Message.status == "received"
        )
        if before is not None:
            query = query.where(Message.created_at < before)
        with reading(self.sessions) as session:
            pending = list(session.execute(query.order_by(Message.id)))
        for contact_id, message_id, kind in pending:
            try:
                self.take_turn(Received(contact_id, message_id), kind=kind)
            except Exception:  # even its failure could not be stored: the next start retries
                log.exception("could not take or fail the turn of message %d", message_id)
        return len(pending)

    @contextmanager
    def _contact_lock(self, contact_id: int) -> Iterator[None]:
        """This process's turns of one contact, one at a time (PostgreSQL's lock, taken in each
        turn's own transaction, makes them one at a time across processes)."""
        with self._locks_guard:
            lock, users = self._locks.get(contact_id, (threading.Lock(), 0))
            self._locks[contact_id] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._locks_guard:
                lock, users = self._locks[contact_id]
                if users == 1:
                    del self._locks[contact_id]
                else:
                    self._locks[contact_id] = (lock, users - 1)

    def take_turn(self, received: Received, kind: str = "text") -> None:
        """Take the turns of a contact's unanswered messages up to this one, oldest first.

        One contact's turns run one at a time in every process (`_contact_lock`, and on
        PostgreSQL an advisory lock each turn's transaction takes first), so a text that
        reached another process first is answered first, and a message is answered once.
        """
        queued = True  # unless every turn's replies went out at once (notify/express.py)
        try:
            with self._contact_lock(received.contact_id):
                queued = self._take_in_order(received, kind)
        finally:
            if queued:
                for wake in self.on_reply:
                    wake()

    def _take_in_order(self, received: Received, kind: str) -> bool:
        """The contact's older unanswered messages, then this one; whether any left rows for
        the dispatcher."""
        tried: set[int] = set()
        queued = False
        waiting: list[tuple[Received, str | None]] = [(received, kind)]
        while waiting:
            taking, taking_kind = waiting[-1]
            taken = self._take_one(taking, taking_kind)
            if isinstance(taken, Older):  # its turn found an older message waiting: that first
                if taken.message_id in tried:  # its failure could not be stored: resume retries
                    return True
                tried.add(taken.message_id)
                waiting.append((Received(received.contact_id, taken.message_id), None))
                continue
            waiting.pop()
            queued = taken or queued
        return queued

    def _take_one(self, received: Received, kind: str | None) -> bool | Older:
        """Run one turn (`kind` None: the stored kind); a failure is caught. Whether it left
        rows for the dispatcher, or the older message to answer first.

        A race (another process took a turn for this contact) or a dropped database
        connection is retried; any other failure marks the message `failed` with its reason
        and tells the seeker to try again, so one bad message never stops the others.
        """
        queued: bool | Older = True  # whether the dispatcher has rows (a failed turn's apology)
        failure: Exception | None = None
        for attempt in range(TURN_ATTEMPTS):
            try:
                queued = self._turn(received, kind)
                failure = None
                break
            except (StaleDataError, IntegrityError, OperationalError) as error:
                # Another process took a turn for this contact (or created its first
                # conversation row) meanwhile, or the connection dropped: read the
                # state again and decide again.
                log.info("turn retried (attempt %d): %s", attempt, type(error).__name__)
                failure = error
                if isinstance(error, OperationalError):
                    time.sleep(RETRY_PAUSE_SECONDS * 2**attempt)
            except Exception as error:  # a bug or a poison message: this turn only
                failure = error
                break
        if failure is not None and not self._done(received):
            self._fail(received, failure)
        return queued if failure is None else True

    def _done(self, received: Received) -> bool:
        with reading(self.sessions) as session:
            message = session.get(Message, received.message_id)
            return message is None or message.status != "received"

    def _fail(self, received: Received, error: Exception) -> None:
        """Mark the message failed with the reason; the seeker is asked to send it again."""
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        log.error("turn failed for message %d: %s", received.message_id, reason[:300])
        now = self.clock()
        with transaction(self.sessions) as session:
            message = session.get(Message, received.message_id)
            contact = session.get(Contact, received.contact_id)
            if message is None or contact is None or message.status != "received":
                return
            message.status = "failed"
            message.error = reason[:MAX_ERROR]
            if not outbox.opted_out(contact):
                outbox.queue(
                    session,
                    contact=contact,
                    text=render("turn_failed", contact.seeker.language),
                    idempotency_key=f"reply:{received.message_id}:failed",
                    now=now,
                )

    def _turn(self, received: Received, kind: str | None) -> bool | Older:
        """Take the turn; whether it left rows for the dispatcher (else its replies went), or
        the contact's older message that waits for its turn first."""
        if self.postgres:
            # One transaction: the contact's lock and the read, the writes, one commit. The
            # lock is tried in the read (rows.LOCKED_BEFORE_TURN says why that is safe); when
            # another process holds it, this waits for it alone, then reads again: a
            # statement's snapshot is taken as it starts.
            with lightly(self.sessions) as session:
                before, locked = rows.locked_before_turn(
                    session, received.message_id, received.contact_id, CONTACT_TURNS
                )
                if not locked:
                    one_at_a_time(session, CONTACT_TURNS, received.contact_id)
                    before = rows.before_turn(session, received.message_id, received.contact_id)
                if before is None:
                    return False
                if (skip := self._skip(received, before)) is not None:
                    return skip
                kind = kind or before.kind
                parse = self._parse(before, kind)
                queued, claimed = self._decide(session, received, before, kind, parse)
        else:  # SQLite: a read that takes no write lock, then the write lock only to write
            with read_once(self.sessions.kw["bind"]) as connection:
                before = rows.before_turn(connection, received.message_id, received.contact_id)
            if before is None:
                return False
            if (skip := self._skip(received, before)) is not None:
                return skip
            kind = kind or before.kind
            parse = self._parse(before, kind)
            with lightly(self.sessions) as session:
                queued, claimed = self._decide(session, received, before, kind, parse)
        if claimed and self.express is not None:
            self.express.hand(claimed)
        return queued

    @staticmethod
    def _skip(received: Received, before: Any) -> bool | Older | None:
        """What the turn returns without deciding: nothing to do, or an older message first."""
        if before.status != "received":
            return False
        if before.oldest is not None and before.oldest != received.message_id:
            return Older(before.oldest)
        return None

    def _parse(self, before: Any, kind: str) -> Parse:
        """What the message says, read in the seeker's language."""
        opted_out = outbox.only_answers(before.opted_out, before.stopped)
        # An opted-out seeker's words are read as words ("YES" opts back in).
        expected = None if opted_out else expecting(Seen.of(before).state)
        return self._understand(kind, before.text, before.language, expected)

    def _decide(
        self, session: Session, received: Received, before: Any, kind: str, parse: Parse
    ) -> tuple[bool, list[Claimed]]:
        """Run the flows over the state read before and write what they decided."""
        seen = Seen.of(before)
        text = before.text
        now = self.clock()
        # PostgreSQL read the author in this transaction, under the contact's lock.
        author = rows.Author(session, received.contact_id, before if self.postgres else None)
        code = self._phone_code(session, author, text, kind, now, received.message_id)
        if code is not None and code.linked is not None:
            parse = code.linked
        if parse.intent == "share_phone":
            parse = link_shared_phone(session, author.contact(), parse)
        if kind == "text":
            author.first_language(text, self.settings.default_language)
        ctx = Context(
            profile=(
                profile_of(author.contact().seeker, author.contact())
                if author.loaded
                else author.profile()
            ),
            now=now,
            reference=self.reference,
            settings=self.settings,
            lookup=self.lookup_factory(session),
        )
        if code is not None and code.replies:
            turn = Turn(seen.state, code.replies)
        else:
            turn = run_turn(ctx, seen.state, parse, seen.idle_for(now))
        if self.postgres:  # written with the turn's last writes
            saving: dict[str, Any] | None = {"version": seen.version, **state_columns(turn.state)}
        else:
            save_state(session, received.contact_id, seen, turn.state, now)
            saving = None
        return self._commit_turn(session, author, turn, received, now, saving)

    def _understand(self, kind: str, text: str, language: str, expecting: str | None) -> Parse:
        """What the message says: typed text, a word the provider matched, or a chat app's kind."""
        if kind == "text":
            return self.understander.understand(text, language, expecting)
        if kind in PROVIDER_KEYWORDS:
            # The provider already matched STOP/START/HELP (Twilio's OptOutType).
            return Parse(text, kind)
        return parse_kind(kind, text, lambda said: self.understander.understand(said, language))

    def _phone_code(
        self,
        session: Session,
        author: rows.Author,
        text: str,
        kind: str,
        now: datetime,
        message_id: int,
    ) -> CodeStep | None:
        """On a channel without phone numbers, a typed number or code links the seeker."""
        if kind != "text" or author.channel not in CODE_LINKED or author.opted_out():
            return None
        return phone_codes.step(
            session,
            author.contact(),
            text,
            now,
            self.settings.phone_region,
            lambda phone: find_or_create_contact(session, "sms", phone, self.settings, now),
            message_id,
        )

    def _commit_turn(
        self,
        session: Session,
        author: rows.Author,
        turn: Turn,
        received: Received,
        now: datetime,
        saving: dict[str, Any] | None = None,
    ) -> tuple[bool, list[Claimed]]:
        """Write what the turn decided (`saving`: its state too, see rows.finish); whether rows
        wait for the dispatcher, and the replies this turn claimed to send at once."""
        if turn.effects:
            contact = author.contact()
            effect_ctx = EffectContext(session, contact, contact.seeker, now)
            for effect in turn.effects:
                apply(effect_ctx, effect)
        session.flush()  # what the effects changed is written before the Core statements
        language = author.language()
        replies = [
            outbox.NewReply(
                render_reply(answer, language),
                f"reply:{received.message_id}:{index}",
                local_buttons(answer.buttons, language),
            )
            for index, answer in enumerate(turn.replies)
        ]
        express = self.express
        at_once = (
            express is not None
            and bool(replies)
            and not author.blocked()
            and express.takes(author.channel)
        )
        new_rows = outbox.reply_rows(
            contact_id=received.contact_id,
            channel=author.channel,
            address=author.address,
            replies=replies,
            now=now,
            sending_until=now + express.lease if at_once and express is not None else None,
        )
        if saving is not None:  # PostgreSQL: one statement writes the state and the replies
            finished = rows.finish(
                session, received.message_id, received.contact_id, now, saving, new_rows
            )
            stored = outbox.queued_replies(new_rows, finished.reply_ids, replies)
        else:
            finished = rows.finish(session, received.message_id, received.contact_id, now)
            stored = outbox.insert_replies(session, new_rows, replies)
        released = finished.released
        queued = bool(released or turn.effects or (replies and not at_once))
        if not at_once:
            return queued, []
        claimed = [
            Claimed(
                id=row.id,
                channel=author.channel,
                address=author.address,
                text=row.text,
                buttons=row.buttons,
                kind="reply",
                priority=outbox.PRIORITY["reply"],
                attempts=1,
                device=author.device,
            )
            for row in stored
        ]
        return queued, claimed


@dataclass(frozen=True)
class Seen:
    """A contact's conversation as the turn read it, once: the state, its version, its age."""

    state: State
    version: int | None = None  # None: no conversation row yet
    updated_at: datetime | None = None

    @classmethod
    def of(cls, conversation: Any) -> Seen:
        """The state a conversation row keeps (its columns; a version of None: no row yet)."""
        if conversation is None or conversation.version is None:
            return cls(State())
        state = State.from_stored(
            conversation.flow, conversation.step, conversation.answers or {}, conversation.misses
        )
        return cls(state, conversation.version, conversation.updated_at)

    def idle_for(self, now: datetime) -> timedelta | None:
        """How long an active flow has waited for the seeker; None when no flow is active."""
        if self.state.flow is None or self.updated_at is None:
            return None
        return now - self.updated_at


# Built once: building a statement costs about as much as running it on SQLite.
NEW_STATE = Fast(insert(Conversation))
_NEXT_STATE = Fast(rows.NEXT_STATE)


def state_columns(state: State) -> dict[str, Any]:
    """A state as its conversation row keeps it (without the version and time)."""
    return {
        "flow": state.flow,
        "step": state.step,
        "answers": state.stored(),
        "misses": state.misses,
    }


def save_state(session: Session, contact_id: int, seen: Seen, state: State, now: datetime) -> None:
    """Write the new state over the version the turn read (else take_turn decides again)."""
    # Another turn wrote meanwhile: StaleDataError; another created the row first: IntegrityError.
    values = {**state_columns(state), "updated_at": now}
    connection = connection_of(session)
    if seen.version is None:
        NEW_STATE.run(connection, {"contact_id": contact_id, "version": 1, **values})
        return
    written = _NEXT_STATE.run(
        connection,
        {
            "b_contact_id": contact_id,
            "b_version": seen.version,
            "b_next": seen.version + 1,
            **{f"b_{name}": value for name, value in values.items()},
        },
    )
    if written.rowcount != 1:
        raise StaleDataError(f"conversation {contact_id} changed during the turn")
