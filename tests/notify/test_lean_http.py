"""The lean HTTP poster against a real local server: answers of every framing, kept-alive and
closed connections, a server that never answers, and the form encoding."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import pytest

from notify.lean_http import HttpFailure, LeanPoster, form_body

Reply = Callable[[bytes], bytes | None]


async def serve(reply: Reply) -> tuple[asyncio.Server, list[bytes], list[int]]:
    """A server that answers each request with reply(request); None: stay silent."""
    requests: list[bytes] = []
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                requests.append(request)
                answer = reply(request)
                if answer is None:
                    await asyncio.sleep(60)
                    return
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer or answer.startswith(b"HTTP/1.0"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, requests, connections


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def url_of(server: asyncio.Server) -> str:
    return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/2010-04-01/Messages.json"


JSON = b'{"sid": "SM1"}'
LENGTH = b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(JSON), JSON)
CHUNKED = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" + JSON[:5]
CHUNKED += b"\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n" % (len(JSON) - 5, JSON[5:])
CLOSE = b"HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nConnection: close\r\n\r\n" + JSON
OLD = b"HTTP/1.0 500 Oops\r\nContent-Length: 2\r\n\r\n{}"


@pytest.mark.parametrize(
    ("answer", "status", "reused"),
    [(LENGTH, 201, True), (CHUNKED, 201, True), (CLOSE, 429, False), (OLD, 500, False)],
)
def test_answers_are_read_and_connections_kept_only_when_they_may_be(
    answer: bytes, status: int, reused: bool
) -> None:
    async def test() -> None:
        server, requests, connections = await serve(lambda _: answer)
        poster = LeanPoster(url_of(server), {"Authorization": "Basic eA=="}, 5.0)
        for _ in range(3):
            got = await poster.post(b"To=%2B86&Body=hi")
            assert got.status == status
            assert got.body == (b"{}" if answer is OLD else JSON)
        assert len(connections) == (1 if reused else 3)
        first = requests[0]
        assert first.startswith(b"POST /2010-04-01/Messages.json HTTP/1.1\r\n")
        assert b"\r\nAuthorization: Basic eA==\r\n" in first
        assert first.endswith(b"\r\n\r\nTo=%2B86&Body=hi")
        if answer is CLOSE:
            assert got.headers["retry-after"] == "3"
        await poster.close()
        server.close()

    run(test)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def test() -> None:
        server, _, connections = await serve(
            lambda _: LENGTH.replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n", 1)
        )
        poster = LeanPoster(url_of(server), {}, 5.0)
        await poster.post(b"a=1")
        for connection in poster._idle:  # the server goes away while the connection idles
            connection.writer.transport.abort()
        await asyncio.sleep(0.05)
        assert (await poster.post(b"a=2")).status == 201
        assert len(connections) == 2
        server.close()

    run(test)


def test_no_answer_is_a_timeout_and_no_server_a_failure() -> None:
    async def test() -> None:
        server, _, _ = await serve(lambda _: None)
        with pytest.raises(TimeoutError):
            await LeanPoster(url_of(server), {}, 0.2).post(b"a=1")
        url = url_of(server)
        server.close()
        await server.wait_closed()
        with pytest.raises(HttpFailure):
            await LeanPoster(url, {}, 1.0).post(b"a=1")

    run(test)


def test_form_body_is_byte_for_byte_urlencode() -> None:
    chooser = random.Random(14)
    alphabet = [chr(c) for c in range(0x250)] + list("王芳哈尔滨岗位 &=+%#?/") + ["\U0001f600"]
    for _ in range(2000):
        form = {
            "To": f"+86139{chooser.randrange(10**8):08d}",
            "Body": "".join(chooser.choice(alphabet) for _ in range(chooser.randrange(60))),
            "StatusCallback": "https://jobline.example/webhooks/twilio/status?office=1",
        }
        assert form_body(form) == urlencode(form).encode("ascii")
