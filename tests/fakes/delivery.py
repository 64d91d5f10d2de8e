"""Run a real dispatcher in a test until nothing is left to send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings
from notify.dispatcher import Dispatcher


def run_until_idle(
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: Any,
    channels: Callable[[], AbstractAsyncContextManager[dict[str, Any]]],
    timeout: float = 60,
    **options: Any,
) -> Dispatcher:
    """Open the channels, send everything due (retries included), close them; the dispatcher."""

    async def go() -> Dispatcher:
        async with channels() as by_name:
            dispatcher = Dispatcher(
                sessions,
                by_name,
                settings,
                clock=clock,
                poll_seconds=0.02,
                backoff_seconds=0.01,
                **options,
            )
            try:
                await asyncio.wait_for(dispatcher.run(until_idle=True), timeout=timeout)
            finally:
                dispatcher.close()
        return dispatcher

    return asyncio.run(go())
