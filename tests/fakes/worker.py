"""A dispatcher process over the fake provider, for crash and many-worker tests.

python -m tests.fakes.worker PROVIDER_URL [--until-idle]; settings come from JOBLINE_* variables.
Prints `sent N` when it stops by itself.
"""

from __future__ import annotations

import asyncio
import sys

from bot.settings import load_settings
from db.session import make_engine, make_session_factory
from notify.dispatcher import Dispatcher
from tests.fakes.provider import HttpChannel


async def work(provider_url: str, until_idle: bool) -> int:
    """Run one dispatcher; return how many messages it sent."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    channel = HttpChannel(provider_url)
    dispatcher = Dispatcher(
        make_session_factory(engine),
        {"sms": channel},
        settings,
        poll_seconds=0.05,
        backoff_seconds=0.01,
        lease_seconds=30,
    )
    try:
        await dispatcher.run(until_idle=until_idle)
    finally:
        await channel.close()
        dispatcher.close()
        engine.dispose()
    return dispatcher.sent


if __name__ == "__main__":
    sent = asyncio.run(work(sys.argv[1], "--until-idle" in sys.argv))
    print(f"sent {sent}", flush=True)
