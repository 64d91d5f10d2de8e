"""Round trips, statements and commits of one turn on PostgreSQL, and where its time goes.

Runs the workload's six texts ("hi" ... "jobs") for a few seekers through `Jobline.handle` in
this process (no HTTP, no sending), with psycopg's pure-Python libpq wrapper so every message
sent to the server is counted: statements, BEGIN, COMMIT/ROLLBACK, the pool's pings. Prints,
per text, the store and the turn apart: round trips, commits, connections checked out, and the
wall time of each; then the time commits took.

    .venv/bin/python bench/turn_trips.py [--seekers 20]
"""

from __future__ import annotations

import os

os.environ["PSYCOPG_IMPL"] = "python"  # before psycopg is imported: its libpq calls can be wrapped

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from psycopg.pq import pq_ctypes  # noqa: E402

from bot.channels.base import InboundMessage  # noqa: E402
from bot.conversation import Jobline  # noqa: E402
from bot.database import open_database  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from db.models import Message  # noqa: E402
from tests.fakes.postgres import postgres_schema  # noqa: E402

TEXTS = ("hi", "register", "Wang Fang", "1978", "Daoli", "jobs")


class Counts:
    """What was sent to the server, by kind, and how long commits took."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.checkouts = 0
        self.commit_seconds: list[float] = []

    def reset(self) -> dict[str, int]:
        """The counts so far, then zero."""
        found = {**self.sent, "checkouts": self.checkouts}
        self.sent.clear()
        self.checkouts = 0
        return found


COUNTS = Counts()


def kind_of(command: bytes) -> str:
    """BEGIN, COMMIT, ROLLBACK, a ping (SELECT 1) or a statement."""
    head = command.strip().split(None, 1)[0].upper() if command.strip() else b""
    if head in (b"BEGIN", b"COMMIT", b"ROLLBACK"):
        return head.decode()
    if command.strip().upper() == b"SELECT 1" or command.strip() == b";":
        return "ping"
    return "statement"


def wrap(name: str) -> None:
    """Count each call of a PGconn sending method by the kind of its command."""
    original = getattr(pq_ctypes.PGconn, name)

    def counted(self: Any, command: bytes, *args: Any, **kwargs: Any) -> Any:
        COUNTS.sent[kind_of(command)] += 1
        return original(self, command, *args, **kwargs)

    setattr(pq_ctypes.PGconn, name, counted)


for method in ("send_query", "send_query_params", "exec_", "exec_params"):
    wrap(method)
PREPARED: dict[bytes, str] = {}  # psycopg prepares a query run often on one connection


def _prepare(self: Any, name: bytes, command: bytes, *args: Any, **kwargs: Any) -> Any:
    PREPARED[name] = kind_of(command)
    COUNTS.sent["prepare"] += 1
    return _original_prepare(self, name, command, *args, **kwargs)


def _run_prepared(self: Any, name: bytes, *args: Any, **kwargs: Any) -> Any:
    COUNTS.sent[PREPARED.get(name, "statement")] += 1
    return _original_run_prepared(self, name, *args, **kwargs)


_original_prepare = pq_ctypes.PGconn.send_prepare
_original_run_prepared = pq_ctypes.PGconn.send_query_prepared
pq_ctypes.PGconn.send_prepare = _prepare  # type: ignore[method-assign]
pq_ctypes.PGconn.send_query_prepared = _run_prepared  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seekers", type=int, default=20)
    args = parser.parse_args()
    with postgres_schema() as url:
        settings = load_settings(database_url=url)
        database = open_database(settings, demo=True)

        @event.listens_for(database.engine, "checkout")
        def _checkout(*_: Any) -> None:
            COUNTS.checkouts += 1

        @event.listens_for(database.engine, "commit")
        def _commit(conn: Any) -> None:
            conn.info["commit_started"] = time.perf_counter()

        original_commit = database.engine.dialect.do_commit

        def timed_commit(dbapi_connection: Any) -> None:
            started = time.perf_counter()
            original_commit(dbapi_connection)
            COUNTS.commit_seconds.append(time.perf_counter() - started)

        database.engine.dialect.do_commit = timed_commit  # type: ignore[method-assign]
        jobline = Jobline(settings, database.sessions)
        per_text: dict[str, list[tuple[dict[str, int], dict[str, int], float, float]]] = {
            text: [] for text in TEXTS
        }
        for seeker in range(args.seekers + 2):
            phone = f"+86139{700_000 + seeker:08d}"
            for text in TEXTS:
                COUNTS.reset()
                started = time.perf_counter()
                received = jobline.receive(
                    InboundMessage("sms", phone, text, external_id=f"SM{seeker}-{text}")
                )
                stored = time.perf_counter()
                store = COUNTS.reset()
                jobline.take_turn(received)
                turned = time.perf_counter()
                turn = COUNTS.reset()
                if seeker >= 2:  # the first two warm the caches
                    per_text[text].append((store, turn, stored - started, turned - stored))
        with database.sessions() as session:
            failed = session.scalar(
                select(func.count()).select_from(Message).where(Message.status != "handled")
            )
        database.engine.dispose()
    if failed:
        raise SystemExit(f"{failed} messages not handled: the turns failed")
    print(f"PostgreSQL, {args.seekers} seekers, medians per text (store | turn):")
    keys = ("ping", "BEGIN", "statement", "COMMIT", "ROLLBACK", "prepare", "checkouts")
    header = " ".join(f"{key[:5]:>5}" for key in keys)
    print(f"{'text':10} {header} | {header} | ms store, turn")
    totals: Counter[str] = Counter()
    for text, runs in per_text.items():

        def median(which: int, key: str, runs: Any = runs) -> float:
            return float(statistics.median(run[which].get(key, 0) for run in runs))

        store_counts = " ".join(f"{median(0, key):5.0f}" for key in keys)
        turn_counts = " ".join(f"{median(1, key):5.0f}" for key in keys)
        ms_store = statistics.median(run[2] for run in runs) * 1000
        ms_turn = statistics.median(run[3] for run in runs) * 1000
        print(f"{text:10} {store_counts} | {turn_counts} | {ms_store:.1f}, {ms_turn:.1f}")
        for run in runs:
            totals.update({k: v for k, v in run[0].items() if k != "checkouts"})
            totals.update({k: v for k, v in run[1].items() if k != "checkouts"})
    turns = sum(len(runs) for runs in per_text.values())
    trips = sum(totals.values()) / turns
    commits = sorted(COUNTS.commit_seconds)
    # Only SQLAlchemy's commits are timed (db/session.light commits on the driver's connection),
    # and the stores may make none.
    timed = (
        f", p50 {statistics.median(commits) * 1000:.2f} ms, "
        f"p90 {commits[int(len(commits) * 0.9)] * 1000:.2f} ms"
        if commits
        else ""
    )
    print(f"round trips per text (store + turn): {trips:.1f}; commits: {len(commits)}{timed}")


if __name__ == "__main__":
    main()
