"""Child processes of a time-travelling test run share its clock (see tests/timetravel)."""

import os

_shift = os.environ.get("JOBLINE_TEST_SHIFT_SECONDS")
if _shift:
    try:
        import time_machine
    except ImportError:  # a process outside the app's venv (the Rasa server) keeps real time
        pass
    else:
        from datetime import UTC, datetime, timedelta

        time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(_shift)), tick=True).start()
        # This process is moved now: a pytest in it (an xdist worker) must not move it again.
        os.environ["JOBLINE_TEST_MOVED_PID"] = str(os.getpid())
