"""SQLite: a new phone number's first text is stored in one light transaction, with the rows
the full store writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database, open_database
from bot.settings import load_settings
from tests.bot.stored_rows import FIRST_TEXTS, first_texts_at_once, stored_rows
from tests.conftest import Clock


def sqlite_database(path: Path) -> Database:
    """A migrated SQLite database in this file."""
    return open_database(load_settings(database_url=f"sqlite:///{path}"), demo=False)


def count_transactions(engine: Engine) -> list[str]:
    """The transactions begun on this engine's connections from now on (each BEGIN's text)."""
    begun: list[str] = []

    def traced(statement: str) -> None:
        if statement.lstrip().upper().startswith("BEGIN"):
            begun.append(statement)

    @event.listens_for(engine, "checkout")
    def _traced(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_trace_callback(traced)

    engine.dispose()  # connections checked out from now on are traced
    return begun


def test_a_first_text_writes_the_rows_the_full_store_writes(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = []
    for light in (True, False):
        if not light:  # no light transaction: the full store makes every row
            monkeypatch.setattr(Jobline, "_store_known", lambda *_: None)
        database = sqlite_database(tmp_path / f"{light}.db")
        settings = load_settings(database_url=str(database.engine.url))
        jobline = Jobline(settings, database.sessions, clock=clock)
        for inbound in FIRST_TEXTS:
            assert not jobline.receive(inbound).duplicate
        found.append(stored_rows(database))
        database.engine.dispose()
    assert found[0] == found[1]
    assert len(found[0]) == len(FIRST_TEXTS)
    assert found[0][1]["contacts.device"] == "gateway-2"
    shared = found[0][-2:]  # the console's seeker got the SMS contact of its phone
    assert shared[0]["seekers.phone"] == shared[1]["seekers.phone"] == "+8613900000005"


def test_a_first_text_is_one_transaction(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path / "one.db")
    jobline = Jobline(load_settings(database_url=str(database.engine.url)), database.sessions)
    begun = count_transactions(database.engine)
    first = jobline.receive(InboundMessage("sms", "+8613900000009", "hi", external_id="SM9"))
    assert len(begun) == 1
    again = jobline.receive(InboundMessage("sms", "+8613900000009", "hi", external_id="SM9"))
    assert again.duplicate and again.message_id == first.message_id
    later = jobline.receive(InboundMessage("sms", "+8613900000009", "jobs", external_id="SM10"))
    assert later.contact_id == first.contact_id and len(begun) == 3
    database.engine.dispose()


def test_a_blocked_contacts_text_still_goes_to_the_full_store(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path / "blocked.db")
    jobline = Jobline(load_settings(database_url=str(database.engine.url)), database.sessions)
    left = InboundMessage("sms", "+8613900000008", "", external_id="SM1", kind="left")
    jobline.receive(left)  # the full store marks the new contact blocked
    begun = count_transactions(database.engine)
    back = jobline.receive(InboundMessage("sms", "+8613900000008", "hi", external_id="SM2"))
    assert len(begun) == 2  # the light transaction found it blocked; the full store unblocked it
    rows = stored_rows(database)
    assert rows[-1]["contacts.stopped"] is None and not back.duplicate
    database.engine.dispose()


def test_first_texts_of_one_new_number_at_once_make_one_seeker(tmp_path: Path) -> None:
    """Two engines on one file, as two processes would be: only SQLite's lock keeps them apart."""
    databases = [sqlite_database(tmp_path / "shared.db") for _ in range(2)]
    joblines = [
        Jobline(load_settings(database_url=str(db.engine.url)), db.sessions) for db in databases
    ]
    first_texts_at_once(joblines, databases[0], numbers=5, each=4)
    for database in databases:
        database.engine.dispose()
