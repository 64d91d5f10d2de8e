"""CPU of three small parts of each Twilio webhook, in one process: the signature check, uvicorn's
access line, and Starlette's own layers.

    .venv/bin/python bench/webhook_parts.py

Prints microseconds per webhook: the twilio library's check (both signatures, with and without the
port, every time) against Jobline's (the second only when the first fails), and uvicorn's access
line through the masking formatter to a stream under access_log all against refusals, and a bare
endpoint behind Starlette's middleware, routing and Request against a plain ASGI callable.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send
from twilio.request_validator import RequestValidator

from bot.channels.twilio_sms import MESSAGE_PATH, TwilioSignature
from bot.logs import ACCESS_LOGGER, configure_logging

PUBLIC_URL = "https://jobline.example.org"
TOKEN = "bench-token"
ROUNDS = 20_000
FORM = FormData(
    {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": "AC" + "b" * 32,
        "From": "+8613800000001",
        "To": "+15005550006",
        "Body": "Wang Fang",
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
)


def per_call_us(work: Callable[[], object]) -> float:
    """Microseconds of CPU per call, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(ROUNDS):
            work()
        best = min(best, time.process_time() - start)
    return best / ROUNDS * 1e6


def main() -> None:
    """Print both comparisons."""
    url = PUBLIC_URL + MESSAGE_PATH
    signature = RequestValidator(TOKEN).compute_signature(url, FORM)
    library = RequestValidator(TOKEN)
    ours = TwilioSignature(PUBLIC_URL, TOKEN)
    assert library.validate(url, FORM, signature) and ours.valid(url, FORM, signature, "")
    both = per_call_us(lambda: library.validate(url, FORM, signature))
    once = per_call_us(lambda: ours.valid(url, FORM, signature, ""))
    print(f"signature: twilio's validate {both:.1f} us, Jobline's {once:.1f} us per webhook")

    access = logging.getLogger(ACCESS_LOGGER)
    line = ("127.0.0.1:50000", "POST", MESSAGE_PATH, "1.1", 200)
    figures = []
    for setting in ("all", "refusals"):
        configure_logging(access_log=setting)
        stream = io.StringIO()
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        figures.append(per_call_us(lambda: access.info('%s - "%s %s HTTP/%s" %d', *line)))
    print(
        f"access line of a webhook answered 200: all {figures[0]:.1f} us, "
        f"refusals {figures[1]:.1f} us"
    )
    asyncio.run(routing())


async def endpoint(request: Request) -> Response:
    """A bare webhook answer."""
    return Response("<Response></Response>", media_type="text/xml")


async def plain(scope: Scope, receive: Receive, send: Send) -> None:
    """The same endpoint as a plain ASGI callable."""
    response = await endpoint(Request(scope, receive))
    await response(scope, receive, send)


async def receive() -> Message:
    """An empty body."""
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    """Drops what is sent."""


async def per_request_us(app: object) -> float:
    """Microseconds of CPU per request through this ASGI app, the best of three rounds."""
    assert callable(app)
    scope = {
        "type": "http",
        "method": "POST",
        "path": MESSAGE_PATH,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "http_version": "1.1",
    }
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(ROUNDS):
            await app(dict(scope), receive, send)
        best = min(best, time.process_time() - start)
    return best / ROUNDS * 1e6


async def routing() -> None:
    """Print Starlette's layers against a plain ASGI callable."""
    app = Starlette(
        routes=[
            Route("/health", endpoint),
            Route(MESSAGE_PATH, endpoint, methods=["POST"]),
            Route("/webhooks/twilio/status", endpoint, methods=["POST"]),
        ]
    )
    starlette, bare = await per_request_us(app), await per_request_us(plain)
    print(f"a bare endpoint: behind Starlette {starlette:.1f} us, plain ASGI {bare:.1f} us")


if __name__ == "__main__":
    main()
