"""Flow tests talk to the pure engine: no database, the demo posts and fair in memory."""

from __future__ import annotations

import pytest

from tests.conftest import Clock
from tests.fakes.engine import EngineSeeker


@pytest.fixture
def seeker(clock: Clock) -> EngineSeeker:
    """A seeker with a phone, texting the flow engine."""
    return EngineSeeker(clock)
