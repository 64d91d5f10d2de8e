"""Stopping a child process the way a service manager would."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], seconds: float = 30) -> None:
    """SIGTERM, wait up to `seconds` for a clean exit, then SIGKILL."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
