"""Dispatcher throughput against a local fake provider with no rate limit, as a ratio to a plain
loop calling the same client with the same concurrency (no database). Our overhead: claiming,
marking `sending`, recording results. Goal: ratio below 1.10.

Both wall-clock time and this process's CPU time are measured (the provider runs in a process of
its own): on a busy machine the wall clock mostly measures the scheduler, the CPU time what each
message costs us.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.database import Database, open_database
from bot.settings import load_settings
from db.models import utcnow
from db.session import transaction
from notify import broadcasts
from notify.channel import OutgoingMessage
from notify.dispatcher import Dispatcher
from tests.fakes.people import add_seekers, phone
from tests.fakes.provider import HttpChannel

MESSAGES = 5_000
ROUNDS = 3


Cost = tuple[float, float]  # (wall seconds, CPU seconds)


async def plain_loop(url: str, concurrency: int) -> Cost:
    """The baseline: `concurrency` loops sending the same number of messages, nothing else."""
    channel = HttpChannel(url)
    numbers = iter(range(MESSAGES))

    async def loop() -> None:
        for number in numbers:
            await channel.send(OutgoingMessage(10_000_000 + number, phone(number), "Job fair."))

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    cost = time.perf_counter() - started, time.process_time() - cpu
    await channel.close()
    return cost


async def dispatcher_run(database: Database, url: str, concurrency: int) -> Cost:
    settings = load_settings(
        database_url=str(database.engine.url),
        notify={"quiet_hours": "", "rate_limits": {"twilio": 0}},
    )
    with transaction(database.sessions) as session:
        created = broadcasts.create(
            session, segment=broadcasts.Segment("all"), text="Job fair.", now=utcnow()
        )
    broadcasts.queue(database.sessions, created.id, settings)
    channel = HttpChannel(url)
    dispatcher = Dispatcher(database.sessions, {"sms": channel}, settings, concurrency=concurrency)
    started, cpu = time.perf_counter(), time.process_time()
    await dispatcher.run(until_idle=True)
    cost = time.perf_counter() - started, time.process_time() - cpu
    assert dispatcher.sent == MESSAGES
    await channel.close()
    dispatcher.close()
    return cost


def compare(database: Database, delay: float, concurrency: int) -> None:
    """Print both rates and their ratio for one provider latency and concurrency."""
    root = Path(__file__).resolve().parent.parent
    provider = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.provider", str(delay)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert provider.stdout is not None
    url = provider.stdout.readline().strip()
    asyncio.run(plain_loop(url, concurrency))  # warm up
    # Alternate runs so background load on the machine hits both alike; keep the best of each.
    plain: list[Cost] = []
    ours: list[Cost] = []
    for _ in range(ROUNDS):
        plain.append(asyncio.run(plain_loop(url, concurrency)))
        ours.append(asyncio.run(dispatcher_run(database, url, concurrency)))
    provider.communicate("")
    wall = min(cost[0] for cost in ours) / min(cost[0] for cost in plain)
    cpu = min(cost[1] for cost in ours) / min(cost[1] for cost in plain)
    best = MESSAGES / min(cost[0] for cost in plain), MESSAGES / min(cost[0] for cost in ours)
    print(
        f"provider latency {delay * 1000:3.0f} ms, concurrency {concurrency:>2}: "
        f"plain loop {best[0]:5.0f} msg/s, dispatcher {best[1]:5.0f} msg/s; "
        f"ratio wall {wall:4.2f}, CPU {cpu:4.2f} (goal < 1.10)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        settings = load_settings(
            database_url=f"sqlite:///{Path(name) / 'dispatch.db'}", load_demo_data=False
        )
        database = open_database(settings)
        add_seekers(database.sessions, MESSAGES)
        compare(database, 0.0, 1)
        compare(database, 0.0, 16)
        compare(database, 0.02, 16)
        database.engine.dispose()


if __name__ == "__main__":
    main()
