"""One place that turns NLU settings into a working Understander, starting Rasa when needed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

from nlu.client import RasaClient
from nlu.config import NluSettings
from nlu.server import ManagedRasa, RasaSetupError, model_path, read_token
from nlu.understand import Understander

log = logging.getLogger(__name__)


def understander_for(settings: NluSettings, client: RasaClient) -> Understander:
    """An Understander with the thresholds and limits from settings."""
    return Understander(
        client,
        threshold=settings.threshold,
        domain_confidence=settings.domain_confidence,
        ambiguity=settings.ambiguity,
        overrule_words=settings.overrule_words,
        max_chars=settings.max_chars,
        retry_after_seconds=settings.retry_after_seconds,
    )


@contextlib.contextmanager
def nlu_service(
    settings: NluSettings,
    *,
    announce: Callable[[str], None] = log.info,
    fallback_to_managed: bool = False,
) -> Iterator[Understander]:
    """Yield an Understander; run the managed Rasa server for as long as the block lasts.

    With nlu.url empty, the managed server is started (or one already answering on the managed
    port is reused). With nlu.url set, that server is used; fallback_to_managed (for one-off
    commands) starts the managed server instead when it does not answer. If Rasa cannot be
    started, the Understander still works from the keyword fast path and reports degraded.
    """
    managed_url = NluSettings.model_validate({**settings.model_dump(), "url": ""}).base_url()
    managed_token = read_token(settings)
    token = settings.auth_token if settings.url else managed_token
    client = RasaClient(settings.base_url(), settings.timeout_seconds, token=token)
    server: ManagedRasa | None = None
    wants_managed = not settings.url and settings.managed
    if settings.url and fallback_to_managed and not client.is_ready():
        announce(f"no Rasa server answers at {settings.url}; using the managed one")
        client.close()
        client = RasaClient(managed_url, settings.timeout_seconds, token=managed_token)
        wants_managed = True
    if wants_managed and not client.is_ready():
        training = "" if model_path(settings).exists() else " (training the model first)"
        announce(f"starting the Rasa server on {managed_url}{training}")
        server = ManagedRasa(settings)
        client.close()
        client = server.client(settings.timeout_seconds)
        try:
            if server.start():
                announce("Rasa is answering")
            else:
                announce("Rasa did not answer in time; answering from keywords and menus")
        except RasaSetupError as error:
            announce(f"cannot start Rasa ({error}); answering from keywords and menus")
            server.stop()
            server = None
    try:
        yield understander_for(settings, client)
    finally:
        if server is not None:
            server.stop()
        client.close()
