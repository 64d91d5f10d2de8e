"""Fixtures for NLU tests: one real managed Rasa server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nlu.config import REPO_ROOT, NluSettings
from nlu.server import ManagedRasa
from nlu.service import understander_for
from nlu.understand import Understander
from tests.fakes.local_server import free_port


@pytest.fixture(scope="session")
def rasa_settings() -> NluSettings:
    """Settings for the test server: its own port, the shared (hash-named) model directory."""
    return NluSettings(managed_port=free_port())


@pytest.fixture(scope="session")
def rasa_server(rasa_settings: NluSettings) -> Iterator[ManagedRasa]:
    """The real Rasa server, trained at most once (the model is reused while nlu/rasa/ is same)."""
    server = ManagedRasa(rasa_settings, log_file=REPO_ROOT / "var" / "log" / "rasa-test.log")
    # A token starting with "-" on purpose: Rasa once took such a token (1 start in 64) for an
    # option and exited, so the server never answered.
    server.token = "-" + server.token
    ready = server.start()
    try:
        assert ready, "the managed Rasa server did not answer; see var/log/rasa-test.log"
        yield server
    finally:
        server.stop()


@pytest.fixture()
def understander(rasa_server: ManagedRasa, rasa_settings: NluSettings) -> Iterator[Understander]:
    """An Understander talking to the real Rasa server, as the bot uses it."""
    client = rasa_server.client(rasa_settings.timeout_seconds)
    yield understander_for(rasa_settings, client)
    client.close()
