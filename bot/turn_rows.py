"""A turn's hot reads and writes as Core statements: no ORM identity map on every message's path.

The ORM objects of the contact and seeker are loaded only when a cold path needs them (an effect,
a shared phone, a linking code); flows may still read through the ORM session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.fast import Fast, connection_of
from db.models import (
    Contact,
    ContactStop,
    Conversation,
    Message,
    OutboxMessage,
    Seeker,
)
from db.session import autocommitted, insert_new, lock_key
from flows.types import Profile
from notify.outbox import RELEASE_HELD, only_answers, opted_out

# Chinese characters: a message with any is taken as written in Chinese.
CJK = re.compile("[\u3400-\u9fff]")
# The contact's oldest message still waiting for its turn, up to the one a turn is for.
OLDEST_UNANSWERED = (
    select(Message.id)
    .where(
        Message.contact_id == bindparam("contact_id"),
        Message.direction == "in",
        Message.status == "received",
        Message.id <= bindparam("message_id"),
    )
    .order_by(Message.id)
    .limit(1)
    .scalar_subquery()
)
# Who wrote: the contact and its seeker.
AUTHOR_COLUMNS = (
    Contact.channel,
    Contact.address,
    Contact.stopped,
    Contact.device,
    Seeker.id.label("seeker_id"),
    Seeker.phone,
    Seeker.name,
    Seeker.birth_year,
    Seeker.gender,
    Seeker.district,
    Seeker.interests,
    Seeker.concession_card,
    Seeker.laid_off,
    Seeker.language,
    Seeker.alerts,
    Seeker.opted_out,
    Seeker.registered_at,
)
AUTHOR_NAMES = tuple(column.key for column in AUTHOR_COLUMNS)
# What a turn reads before it understands: the message, whether an older message of the
# contact waits for its turn first, who wrote it and where they are.
BEFORE_TURN = (
    select(
        Message.status,
        Message.text,
        Message.kind,
        OLDEST_UNANSWERED.label("oldest"),
        *AUTHOR_COLUMNS,
        Conversation.flow,
        Conversation.step,
        Conversation.answers,
        Conversation.misses,
        Conversation.version,
        Conversation.updated_at,
    )
    .join_from(Message, Contact, Contact.id == Message.contact_id)
    .join(Seeker, Seeker.id == Contact.seeker_id)
    .outerjoin(Conversation, Conversation.contact_id == Contact.id)
    .where(Message.id == bindparam("message_id"))
)
# PostgreSQL: the same read trying the contact's turn lock (db/session.CONTACT_TURNS) in the
# same round trip. Its snapshot is taken as the statement starts, before the lock is held: a
# turn another process committed in between is caught by the state's version when this turn
# writes (it then decides again), as is any turn that wrote meanwhile.
LOCKED_BEFORE_TURN = BEFORE_TURN.add_columns(
    func.pg_try_advisory_xact_lock(
        bindparam("lock_kind", type_=Integer), bindparam("lock_key", type_=Integer)
    ).label("locked")
)
# The contact that wrote and its seeker, as a turn's own transaction reads them (SQLite's
# turn reads before it takes the write lock, so it reads them again).
AUTHOR = (
    select(*AUTHOR_COLUMNS)
    .join_from(Contact, Seeker, Seeker.id == Contact.seeker_id)
    .where(Contact.id == bindparam("contact_id"))
)
# Statements built once (building one costs about as much as running it on SQLite).
SEEN_MESSAGE = select(Message.contact_id, Message.id).where(
    Message.channel == bindparam("channel"), Message.provider_id == bindparam("provider_id")
)
CONTACT_BY_ADDRESS = select(Contact.id, Contact.stopped, Contact.device).where(
    Contact.channel == bindparam("channel"), Contact.address == bindparam("address")
)
SEEKER_BY_PHONE = select(Seeker.id).where(Seeker.phone == bindparam("phone"))
ADD_MESSAGE = insert(Message).returning(Message.id)
HANDLED = update(Message).where(Message.id == bindparam("message_id")).values(status="handled")
LAST_WROTE = (
    update(Contact)
    .where(Contact.id == bindparam("contact_id"))
    .values(last_inbound_at=bindparam("now"))
)


def _known_contact_store(same_device: bool) -> Any:
    """INSERT ... SELECT of an inbound message for a known contact it changes nothing on."""
    column = Message.__table__.c
    where = [
        Contact.channel == bindparam("q_channel", type_=column.channel.type),
        Contact.address == bindparam("q_address", type_=Contact.address.type),
        or_(Contact.stopped.is_(None), Contact.stopped != ContactStop.BLOCKED),
    ]
    if same_device:
        where.append(Contact.device == bindparam("q_device", type_=Contact.device.type))
    values = ("channel", "provider_id", "text", "kind", "created_at")
    source = select(
        Contact.id,
        *(bindparam(f"q_{name}", type_=column[name].type) for name in values),
        literal("in", column.direction.type),
        literal("received", column.status.type),
        literal(1, column.segments.type),
    ).where(*where)
    names = ["contact_id", *values, "direction", "status", "segments"]
    return (
        postgresql.insert(Message)
        .from_select(names, source)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(Message.contact_id, Message.id)
    )


# PostgreSQL: a text from a known contact that changes nothing on it (not blocked, the same
# office phone) is stored by one statement that commits on its own: one round trip, not five.
STORE_KNOWN = {same_device: _known_contact_store(same_device) for same_device in (False, True)}


_STORE_KNOWN = {same_device: Fast(statement) for same_device, statement in STORE_KNOWN.items()}


def store_known(engine: Engine, values: dict[str, Any], device: str | None) -> Any:
    """Store an inbound message of a known contact in one statement (PostgreSQL); its contact
    id and id, or None when the full store must decide (a new or blocked contact, a new office
    phone, or a provider id stored before)."""
    statement = _STORE_KNOWN[device is not None]
    parameters = {f"q_{name}": value for name, value in values.items()}
    with autocommitted(engine) as connection:
        return statement.run(connection, {**parameters, "q_device": device}).first()


_BEFORE_TURN = Fast(BEFORE_TURN)
_LOCKED_BEFORE_TURN = Fast(LOCKED_BEFORE_TURN)
_SEEN_MESSAGE = Fast(SEEN_MESSAGE)
_CONTACT_BY_ADDRESS = Fast(CONTACT_BY_ADDRESS)
_ADD_MESSAGE = Fast(ADD_MESSAGE)
_SEEKER_BY_PHONE = Fast(SEEKER_BY_PHONE)
_AUTHOR = Fast(AUTHOR)
_HANDLED_FAST = Fast(HANDLED)
_LAST_WROTE_FAST = Fast(LAST_WROTE)
_RELEASE_HELD_FAST = Fast(RELEASE_HELD)


def before_turn(session: Session | Connection, message_id: int, contact_id: int) -> Any:
    """The message's status, text and kind, the contact's oldest message still waiting for its
    turn, its seeker's language and stops, its conversation row (a named tuple, or None)."""
    values = {"message_id": message_id, "contact_id": contact_id}
    return _BEFORE_TURN.run(session, values).first()


def locked_before_turn(
    session: Session, message_id: int, contact_id: int, lock_kind: int
) -> tuple[Any, bool]:
    """PostgreSQL: `before_turn`, and whether the contact's turn lock was free and is now
    this transaction's (if not, the caller waits for it and reads again)."""
    values = {
        "message_id": message_id,
        "contact_id": contact_id,
        "lock_kind": lock_kind,
        "lock_key": lock_key(contact_id),
    }
    row = _LOCKED_BEFORE_TURN.run(session, values).first()
    return row, row is None or bool(row.locked)


def seen_message(session: Session | Connection, channel: str, provider_id: str) -> Any:
    """The stored message with this provider id (its contact_id and id), if any."""
    found = _SEEN_MESSAGE.run(session, {"channel": channel, "provider_id": provider_id})
    return found.first()


def contact_by_address(session: Session | Connection, channel: str, address: str) -> Any:
    """A contact's id, stop and office phone by its channel address, if it exists."""
    found = _CONTACT_BY_ADDRESS.run(session, {"channel": channel, "address": address})
    return found.first()


def seeker_by_phone(session: Session | Connection, phone: str) -> int | None:
    """The id of the seeker with this phone, if any."""
    found: int | None = _SEEKER_BY_PHONE.run(session, {"phone": phone}).scalar()
    return found


def new_phone_contact(
    where: Session | Connection,
    channel: str,
    address: str,
    seeker: dict[str, Any],
    device: str | None,
) -> Any:
    """A phone number's contact, made with its seeker (`seeker`: a new one's columns; the
    phone's own seeker when it has one) unless they exist; race-safe (insert ... on conflict do
    nothing, then select). The contact's id, stop and office phone."""
    insert_new(where, Seeker, {**seeker, "phone": address}, ["phone"])
    values = {
        "channel": channel,
        "address": address,
        "seeker_id": seeker_by_phone(where, address),
        "created_at": seeker["created_at"],
        "device": device,
    }
    insert_new(where, Contact, values, ["channel", "address"])
    return contact_by_address(where, channel, address)


def change_contact(session: Session, contact_id: int, values: dict[str, Any]) -> None:
    """Set some of a contact's columns."""
    if values:
        session.connection().execute(update(Contact).where(Contact.id == contact_id).values(values))


def add_message(session: Session | Connection, values: dict[str, Any]) -> int:
    """Insert one inbound message; its id."""
    return int(_ADD_MESSAGE.run(session, values).one()[0])


# A conversation's new state, written over the version the turn read (conversation.save_state;
# on PostgreSQL inside `finishing`'s statement).
NEXT_STATE = (
    update(Conversation)
    .where(
        Conversation.contact_id == bindparam("b_contact_id"),
        Conversation.version == bindparam("b_version"),
    )
    .values(
        version=bindparam("b_next"),
        flow=bindparam("b_flow"),
        step=bindparam("b_step"),
        answers=bindparam("b_answers"),
        misses=bindparam("b_misses"),
        updated_at=bindparam("b_updated_at"),
    )
)
# PostgreSQL: the writes of `finish` as CTEs of one statement, on the bind names of
# outbox.RELEASE_HELD.
_HANDLED = update(Message).where(Message.id == bindparam("b_message")).values(status="handled")
_WROTE = (
    update(Contact)
    .where(Contact.id == bindparam("b_contact_id"))
    .values(last_inbound_at=bindparam("b_now"))
)
# With the turn's new state written over the version it read (or the contact's first
# conversation row, when it read none) and its replies inserted: every write of a turn, one
# statement (one round trip, not three).
_SAVED = NEXT_STATE.returning(Conversation.contact_id).cte("saved")
_CREATED = (
    postgresql.insert(Conversation)
    .values(
        contact_id=bindparam("b_contact_id"),
        version=1,
        flow=bindparam("b_flow"),
        step=bindparam("b_step"),
        answers=bindparam("b_answers"),
        misses=bindparam("b_misses"),
        updated_at=bindparam("b_updated_at"),
    )
    .on_conflict_do_nothing(index_elements=["contact_id"])
    .returning(Conversation.contact_id)
    .cte("saved")
)
_RELEASED_ROWS = RELEASE_HELD.returning(OutboxMessage.id).cte("released")
_FINISHING: dict[tuple[bool, int, tuple[str, ...]], Fast] = {}


def finishing(first: bool, replies: int, columns: tuple[str, ...] = ()) -> Fast:
    """The statement that finishes a PostgreSQL turn: the state saved (`first`: the contact's
    first conversation row made), the message handled, the contact's last text noted, its held
    rows released, and `replies` outbox rows inserted (these columns of each, bound as
    r<index>_<column>); it gives how many rows were saved and released, and the new rows' ids
    in order."""
    key = (first, replies, columns)
    found = _FINISHING.get(key)
    if found is not None:
        return found
    saved = _CREATED if first else _SAVED
    results: list[Any] = [
        select(func.count()).select_from(saved).scalar_subquery().label("saved"),
        select(func.count()).select_from(_RELEASED_ROWS).scalar_subquery().label("released"),
    ]
    if replies:
        table = OutboxMessage.__table__
        inserted = (
            insert(OutboxMessage)
            .values(
                [
                    {
                        name: bindparam(f"r{index}_{name}", type_=table.c[name].type)
                        for name in columns
                    }
                    for index in range(replies)
                ]
            )
            .returning(OutboxMessage.id)
            .cte("replied")
        )
        # Ids come from the sequence in the order of the VALUES rows.
        ordered = postgresql.aggregate_order_by(inserted.c.id, inserted.c.id)
        results.append(select(func.array_agg(ordered)).scalar_subquery().label("reply_ids"))
    statement = select(*results).add_cte(_HANDLED.cte("handled"), _WROTE.cte("wrote"))
    found = _FINISHING[key] = Fast(statement)
    return found


class Finished(NamedTuple):
    """What finishing a turn did: held rows released, and the ids of the replies it inserted."""

    released: int
    reply_ids: list[int]


def finish(
    session: Session,
    message_id: int,
    contact_id: int,
    now: datetime,
    state: dict[str, Any] | None = None,
    replies: Sequence[Mapping[str, Any]] = (),
) -> Finished:
    """The turn is done: the message is handled, the contact last wrote now, and what was kept
    for them (outside the channel's window) goes.

    `state` (PostgreSQL): the new state's columns and the `version` the turn read (None: it
    read no conversation row), written too, with the turn's `replies` (outbox rows, see
    notify/outbox.reply_rows); StaleDataError when another turn wrote meanwhile (the turn
    decides again). SQLite: three statements, and the replies are the caller's.
    """
    connection = connection_of(session)
    values = {"b_message": message_id, "b_contact_id": contact_id, "b_now": now}
    if state is not None:
        version = state["version"]
        given = {f"b_{name}": value for name, value in state.items() if name != "version"}
        given |= {"b_updated_at": now, **values}
        if version is not None:
            given |= {"b_version": version, "b_next": version + 1}
        for index, reply in enumerate(replies):
            given |= {f"r{index}_{name}": value for name, value in reply.items()}
        columns = tuple(replies[0]) if replies else ()
        row = finishing(version is None, len(replies), columns).run(connection, given).one()
        if row.saved != 1:
            raise StaleDataError(f"conversation {contact_id} changed during the turn")
        return Finished(int(row.released), list(row.reply_ids) if replies else [])
    if replies or connection.dialect.name == "postgresql":
        raise ValueError("PostgreSQL finishes a turn with its state and replies")
    released = _RELEASE_HELD_FAST.run(connection, {"b_contact_id": contact_id, "b_now": now})
    _HANDLED_FAST.run(connection, {"message_id": message_id})
    _LAST_WROTE_FAST.run(connection, {"contact_id": contact_id, "now": now})
    return Finished(released.rowcount, [])


class Author:
    """The contact that wrote and its seeker: one Core read, the ORM objects only on demand."""

    def __init__(self, session: Session, contact_id: int, read: Any = None) -> None:
        """`read`: BEFORE_TURN's row, when this transaction read it (no second read)."""
        self.session = session
        self.contact_id = contact_id
        if read is None:
            found = _AUTHOR.run(connection_of(session), {"contact_id": contact_id}).one()._asdict()
        else:
            found = read._asdict()
        self.row: dict[str, Any] = {name: found[name] for name in AUTHOR_NAMES}
        self._contact: Contact | None = None

    def contact(self) -> Contact:
        """The ORM contact (its seeker loads with it): for effects and the cold paths."""
        if self._contact is None:
            self._contact = self.session.get(Contact, self.contact_id)
            assert self._contact is not None
        return self._contact

    @property
    def loaded(self) -> bool:
        """Whether the ORM objects are loaded (they are then what is true)."""
        return self._contact is not None

    @property
    def channel(self) -> str:
        """The contact's channel."""
        return str(self.row["channel"])

    @property
    def address(self) -> str:
        """The contact's address on its channel."""
        return str(self.row["address"])

    @property
    def device(self) -> str | None:
        """The office phone the contact last wrote to."""
        device: str | None = self.row["device"]
        return device

    def language(self) -> str:
        """The seeker's language now (an effect may have changed it)."""
        if self._contact is not None:
            return self._contact.seeker.language
        return str(self.row["language"])

    def stopped(self) -> str | None:
        """Why this contact gets nothing more now, if it does not."""
        if self._contact is not None:
            return self._contact.stopped
        stopped: str | None = self.row["stopped"]
        return stopped

    def opted_out(self) -> bool:
        """Whether this contact gets only answers to its own words (notify/outbox.opted_out)."""
        if self._contact is not None:
            return opted_out(self._contact)
        return only_answers(self.row["opted_out"], self.row["stopped"])

    def blocked(self) -> bool:
        """Whether its provider said this contact cannot be reached."""
        return self.stopped() == ContactStop.BLOCKED

    def set_language(self, language: str) -> None:
        """Answer the seeker in this language from now on."""
        if self._contact is not None:
            self._contact.seeker.language = language
            return
        self.session.connection().execute(
            update(Seeker).where(Seeker.id == self.row["seeker_id"]).values(language=language)
        )
        self.row["language"] = language

    def first_language(self, text: str, default: str) -> None:
        """A new seeker who writes in Chinese gets Chinese, until they choose a language."""
        registered = (
            self._contact.seeker.registered_at if self._contact else self.row["registered_at"]
        )
        if registered is None and self.language() == default and CJK.search(text):
            self.set_language("zh")

    def profile(self) -> Profile:
        """A read-only snapshot of the seeker from the Core read (before any ORM load)."""
        row = self.row
        return Profile(
            seeker_id=row["seeker_id"],
            phone=row["phone"],
            name=row["name"],
            birth_year=row["birth_year"],
            gender=row["gender"],
            district=row["district"],
            interests=tuple(row["interests"] or ()),
            concession_card=row["concession_card"],
            laid_off=row["laid_off"],
            language=row["language"],
            alerts=row["alerts"],
            opted_out=self.opted_out(),
            registered=row["registered_at"] is not None,
        )
