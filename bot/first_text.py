"""PostgreSQL: a new phone number's first text, its seeker and contact made, in one statement.

The full store (bot/conversation.py `_store`) takes about ten round trips for it in a
transaction; this statement's data-modifying CTEs do the same writes in one, in autocommit.
It stores nothing it cannot store exactly as the full store would, and then gives None so the
full store decides: a contact that exists (blocked, a new office phone, a provider's retry), or
a seeker, contact or provider id another transaction wrote during the statement (its snapshot,
taken as it starts, cannot see them; ON CONFLICT DO NOTHING just finds no row to return).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam, exists, literal, select, union_all
from sqlalchemy.dialects import postgresql

from db.fast import Fast
from db.models import Contact, Message, Seeker
from db.session import autocommitted

_SEEKER = Seeker.__table__.c
_CONTACT = Contact.__table__.c
_MESSAGE = Message.__table__.c


def _given(name: str, column: Any) -> ColumnElement[Any]:
    """The statement's parameter `name`, typed as the column it is written to."""
    return bindparam(f"f_{name}", type_=column.type)


def _first_text_store() -> Any:
    """The message's INSERT, fed by the new contact's, fed by the seeker's (new unless the
    phone has one); none of them writes when the address has a contact."""
    known = exists().where(
        _CONTACT.channel == _given("channel", _CONTACT.channel),
        _CONTACT.address == _given("address", _CONTACT.address),
    )
    given = {
        "phone": _given("address", _SEEKER.phone),
        "language": _given("language", _SEEKER.language),
        "interests": _given("interests", _SEEKER.interests),
        "created_at": _given("created_at", _SEEKER.created_at),
    }
    # The columns' own defaults (alerts, opted_out, is_test) as written, as contact_for's
    # insert_new writes them: SQLAlchemy fills them in at execution, which db/fast.py skips.
    defaults = {
        column.name: literal(column.default.arg, column.type)
        for column in _SEEKER
        if column.name not in given and column.default is not None and column.default.is_scalar
    }
    new_seeker = (
        postgresql.insert(Seeker)
        .from_select([*given, *defaults], select(*given.values(), *defaults.values()).where(~known))
        .on_conflict_do_nothing(index_elements=["phone"])
        .returning(Seeker.id)
        .cte("new_seeker")
    )
    # The statement cannot read the row its own CTE inserts: the new one, else the one there.
    seeker = union_all(
        select(new_seeker.c.id),
        select(Seeker.id).where(Seeker.phone == _given("address", _SEEKER.phone)),
    ).cte("seeker")
    new_contact = (
        postgresql.insert(Contact)
        .from_select(
            ["channel", "address", "seeker_id", "created_at", "device"],
            select(
                _given("channel", _CONTACT.channel),
                _given("address", _CONTACT.address),
                seeker.c.id,
                _given("created_at", _CONTACT.created_at),
                _given("device", _CONTACT.device),
            )
            .where(~known)
            .limit(1),
        )
        .on_conflict_do_nothing(index_elements=["channel", "address"])
        .returning(Contact.id)
        .cte("new_contact")
    )
    values = ("channel", "provider_id", "text", "kind", "created_at")
    source = select(
        new_contact.c.id,
        *(_given(name, _MESSAGE[name]) for name in values),
        literal("in", _MESSAGE.direction.type),
        literal("received", _MESSAGE.status.type),
        literal(1, _MESSAGE.segments.type),
    )
    return (
        postgresql.insert(Message)
        .from_select(["contact_id", *values, "direction", "status", "segments"], source)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(Message.contact_id, Message.id)
    )


FIRST_TEXT_STORE = _first_text_store()
_FIRST_TEXT_STORE = Fast(FIRST_TEXT_STORE)


def store_first_text(
    engine: Engine, values: dict[str, Any], seeker: dict[str, Any], device: str | None
) -> Any:
    """Store a new phone contact's first text with its seeker (shared with the phone's seeker
    if it has one) and contact in one statement; the message's contact id and id, or None
    when the full store must decide.

    `values`: the message's channel, address, provider_id, text, kind and created_at (the
    address is the seeker's phone); `seeker`: a new seeker's language and interests
    (conversation.seeker_columns); `device`: the contact's.
    """
    parameters = {f"f_{name}": value for name, value in values.items()}
    parameters.update(
        f_language=seeker["language"], f_interests=seeker["interests"], f_device=device
    )
    with autocommitted(engine) as connection:
        return _FIRST_TEXT_STORE.run(connection, parameters).first()
