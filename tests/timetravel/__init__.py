"""Run the tests with the wall clock moved to another hour of the day in Harbin.

`JOBLINE_TEST_HOUR=14 pytest` moves the clock of the test process, and through
`sitecustomize` (this folder is put on PYTHONPATH) of every Python process a test starts, to
today at 14:00 Asia/Harbin; time keeps running from there. Every process moves by the same
offset, `JOBLINE_TEST_SHIFT_SECONDS`, so they agree on the time.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

HOUR = "JOBLINE_TEST_HOUR"
SHIFT = "JOBLINE_TEST_SHIFT_SECONDS"
# Set by sitecustomize in a process it moved (an xdist worker): moving it again would add twice.
MOVED_PID = "JOBLINE_TEST_MOVED_PID"
HERE = Path(__file__).resolve().parent


def shift_for(hour: str) -> float:
    """Seconds from now to today's `hour` (H or H:MM) in Harbin."""
    hours, _, minutes = hour.partition(":")
    now = datetime.now(UTC)
    target = now.astimezone(ZoneInfo("Asia/Harbin")).replace(
        hour=int(hours), minute=int(minutes or 0), second=0, microsecond=0
    )
    return (target - now).total_seconds()


def travel(shift: float) -> time_machine.travel:
    """Start moving this process's clock by `shift` seconds; time keeps ticking."""
    traveller = time_machine.travel(datetime.now(UTC) + timedelta(seconds=shift), tick=True)
    traveller.start()
    return traveller


def start_from_environment() -> time_machine.travel | None:
    """Move the clock when the environment asks (the test process or a child of it)."""
    if os.environ.get(MOVED_PID) == str(os.getpid()):
        return None  # sitecustomize moved this process already
    shift = os.environ.get(SHIFT)
    if shift is None and os.environ.get(HOUR):
        shift = str(shift_for(os.environ[HOUR]))
        os.environ[SHIFT] = shift
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = (
            f"{HERE / 'site'}{os.pathsep}{path}" if path else str(HERE / "site")
        )
    return travel(float(shift)) if shift is not None else None
