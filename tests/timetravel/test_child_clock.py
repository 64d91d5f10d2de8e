"""A test run's moved clock reaches every Python process a test starts (issue 10, part 1)."""

from __future__ import annotations

import os
import subprocess
import sys

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
