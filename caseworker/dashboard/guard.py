"""The gate in front of every dashboard route: sign-in, idle time, CSRF, the session cookie."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caseworker.dashboard import visit as cookie
from caseworker.dashboard.visit import Visit
from caseworker.dashboard.web import PREFIX, DashboardContext, StaffView
from db.models import Staff

# Routes anyone may open: the login page (and its form).
PUBLIC = frozenset({"/login"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 8 * 1024 * 1024


def wants_page(request: Request) -> bool:
    """A browser page load, not an htmx or JSON request (those get 401, not a redirect)."""
    if request.headers.get("hx-request"):
        return False
    accept = request.headers.get("accept", "")
    return not ("application/json" in accept and "text/html" not in accept)


def _route_path(scope: Scope) -> str:
    """The path inside the mount (/login for /dashboard/login)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _signed_in_staff(context: DashboardContext, current: Visit) -> StaffView | None:
    if current.staff_id is None:
        return None
    with context.sessions() as session:
        staff = session.get(Staff, current.staff_id)
        if staff is None or not staff.active or staff.session_generation != current.generation:
            return None
        return StaffView(staff.id, staff.email, staff.name, staff.role, staff.language)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it is larger than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class Guard:
    """ASGI middleware for the /dashboard mount."""

    def __init__(self, app: ASGIApp, context: DashboardContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = self.context
        request = Request(scope)
        now = context.clock()
        current = cookie.load(
            request.cookies.get(cookie.COOKIE), context.key, now, context.idle_seconds
        )
        staff = await anyio.to_thread.run_sync(_signed_in_staff, context, current)
        if staff is None and current.staff_id is not None:
            current = current.signed_out()
        # A page's own polling is not a person at work: it does not extend the idle time.
        polling = request.headers.get("x-jobline-poll") == "1" and current.staff_id is not None
        seen = datetime.fromtimestamp(current.seen, UTC) if polling else now
        state = scope.setdefault("state", {})
        state.update(dashboard=context, visit=current, staff=staff)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                final: Visit = state["visit"]
                setter = Response()
                setter.set_cookie(
                    cookie.COOKIE,
                    cookie.dump(final, context.key, seen),
                    max_age=int(context.idle_seconds),
                    path=PREFIX,
                    httponly=True,
                    samesite="lax",
                    secure=context.secure_cookies,
                )
                cookies = [h for h in setter.raw_headers if h[0] == b"set-cookie"]
                message["headers"] = [*message.get("headers", []), *cookies]
            await send(message)

        refusal: Response | None = None
        route = _route_path(scope)
        if staff is None and route not in PUBLIC:
            if wants_page(request):
                refusal = RedirectResponse(f"{PREFIX}/login", status_code=303)
            else:
                # htmx follows HX-Redirect, so a page whose session ended goes to the login.
                refusal = PlainTextResponse(
                    "Sign in first.", status_code=401, headers={"HX-Redirect": f"{PREFIX}/login"}
                )
        elif request.method not in SAFE_METHODS:
            body = await _read_body(receive)
            if body is None:
                refusal = PlainTextResponse("Too large.", status_code=413)
            else:
                receive = _replay(body)
                token = request.headers.get("x-csrf-token", "")
                if not token:
                    try:
                        form = await Request(scope, _replay(body)).form()
                        token = str(form.get("csrf", ""))
                        await form.close()
                    except HTTPException:  # a body that is not a form carries no token
                        token = ""
                if not hmac.compare_digest(token.encode(), current.csrf.encode()):
                    refusal = PlainTextResponse(
                        "This form has expired. Go back, reload the page and try again.",
                        status_code=403,
                    )
        if refusal is not None:
            await refusal(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send_with_cookie)
