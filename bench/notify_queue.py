"""Queueing a broadcast: seconds and peak memory for 100,000 recipients against 10,000.

Time should grow linearly (ratio ~10) and memory stay flat (ratio ~1): recipients are resolved
and written in batches of notify.batch_size, never all held at once.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.database import Database, open_database
from bot.settings import Settings, load_settings
from db.models import utcnow
from db.session import transaction
from notify import broadcasts
from tests.fakes.people import add_seekers


def new_broadcast(database: Database) -> int:
    with transaction(database.sessions) as session:
        created = broadcasts.create(
            session,
            segment=broadcasts.parse_segment("all"),
            text="Job fair on Saturday.",
            now=utcnow(),
        )
        return created.id


def measure(count: int, folder: Path) -> tuple[float, int]:
    """Seconds to queue `count` recipients, and peak traced memory while doing it again."""
    settings: Settings = load_settings(
        database_url=f"sqlite:///{folder / f'queue{count}.db'}", load_demo_data=False
    )
    database = open_database(settings)
    add_seekers(database.sessions, count)
    timed = new_broadcast(database)
    started = time.perf_counter()
    assert broadcasts.queue(database.sessions, timed, settings) == count
    seconds = time.perf_counter() - started
    traced = new_broadcast(database)
    tracemalloc.start()
    broadcasts.queue(database.sessions, traced, settings)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    database.engine.dispose()
    return seconds, peak


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small_time, small_peak = measure(10_000, folder)
        large_time, large_peak = measure(100_000, folder)
    print(f"queue 10,000 recipients:  {small_time:6.2f} s, peak {small_peak / 1e6:6.2f} MB")
    print(f"queue 100,000 recipients: {large_time:6.2f} s, peak {large_peak / 1e6:6.2f} MB")
    print(f"time ratio 100k/10k:   {large_time / small_time:5.2f} (linear = 10)")
    print(f"memory ratio 100k/10k: {large_peak / small_peak:5.2f} (flat = 1)")


if __name__ == "__main__":
    main()
