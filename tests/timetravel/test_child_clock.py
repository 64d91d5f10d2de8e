"""A test run's moved clock reaches every Python process a test starts (issue 10, part 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.timetravel import HERE, SHIFT, shift_for

HARBIN_NOW = (
    "from datetime import datetime; from zoneinfo import ZoneInfo; "
    "print(datetime.now(ZoneInfo('Asia/Harbin')).strftime('%H:%M'))"
)


def test_a_child_process_reads_the_moved_clock() -> None:
    hour = "3:30"
    # This process may be moved already: the child's shift counts from the real clock.
    shift = float(os.environ.get(SHIFT) or 0) + shift_for(hour)
    env = {
        **os.environ,
        SHIFT: str(shift),
        "PYTHONPATH": str(HERE / "site"),
    }
    said = subprocess.run(
        [sys.executable, "-c", HARBIN_NOW], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    # Time keeps running from the moved hour: a slow start-up may reach the next minute.
    assert said in ("03:30", "03:31"), said


def test_this_process_is_moved_once() -> None:
    """An xdist worker is moved by sitecustomize; pytest must not move it a second time."""
    hour = os.environ.get("JOBLINE_TEST_HOUR")
    if not hour:
        return  # this run keeps the real clock
    now = datetime.now(ZoneInfo("Asia/Harbin"))
    started = now.replace(hour=int(hour), minute=0, second=0, microsecond=0)
    # The run started at that hour and takes well under three hours.
    assert timedelta(0) <= (now - started) % timedelta(days=1) < timedelta(hours=3), now
