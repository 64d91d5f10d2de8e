"""Twilio's urlencoded webhook form reads the same as Starlette's own form parser reads it."""

from __future__ import annotations

import asyncio
from urllib.parse import quote_plus

from starlette.requests import Request

from bot.channels.twilio_sms import read_form

BODIES = [
    "From=%2B8613800000001&Body=%E6%89%BE%E5%B7%A5%E4%BD%9C+%E5%93%88%E5%B0%94%E6%BB%A8&NumMedia=0",
    "Body=&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm.jpg&To=%2B15005550006&Body=second",
    "Body=50%25+off+%26+more%3D&OptOutType=STOP&Flag",
    "Body=" + quote_plus("Wang Fang 王芳 ✓ +1 & = ?"),
]


def request_for(body: bytes, content_type: str) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/twilio/sms",
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


def test_urlencoded_forms_read_as_starlette_reads_them() -> None:
    async def both(body: str) -> tuple[list[tuple[str, object]], list[tuple[str, object]]]:
        ours = await read_form(request_for(body.encode(), "application/x-www-form-urlencoded"))
        theirs = await request_for(body.encode(), "application/x-www-form-urlencoded").form()
        return ours.multi_items(), theirs.multi_items()

    for body in BODIES:
        ours, theirs = asyncio.run(both(body))
        assert ours == theirs, body
    assert asyncio.run(both(BODIES[0]))[0][1] == ("Body", "找工作 哈尔滨")


def test_another_content_type_goes_to_starlette() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="Body"\r\n\r\nhi\r\n--b--\r\n'
    form = asyncio.run(read_form(request_for(body, "multipart/form-data; boundary=b")))
    assert form.multi_items() == [("Body", "hi")]
