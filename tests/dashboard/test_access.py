"""Who gets in: sign-in, sessions, CSRF, throttling, roles, and a walk over every route."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from bot.database import Database
from bot.settings import Settings
from caseworker.dashboard.guard import PUBLIC
from caseworker.staff import disable_staff, set_password
from db.models import AuditEntry, LoginFailure, Staff
from db.session import transaction
from tests.conftest import Clock
from tests.dashboard.conftest import ADMIN, CASEWORKER, PASSWORD, form_token, signed_in


def every_route(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, set[str]]]:
    """(full path, methods) of every endpoint the app registers, mounts included."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes or []
            if not inner:
                found.append((prefix + route.path + "/anything", {"GET"}))
            found += every_route(list(inner), prefix + route.path)
        elif isinstance(route, Route):
            found.append((prefix + route.path, set(route.methods or {"GET"})))
    return found


def concrete(path: str) -> str:
    """A path with its parameters filled in."""
    for name in ("{id}", "{seeker_id}", "{fair_id}", "{broadcast_id}", "{reference}"):
        path = path.replace(name, "1")
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + "1" + path[end + 1 :]
    return path


def test_every_dashboard_route_needs_a_session(app: Starlette, client: TestClient) -> None:
    routes = [
        (path, methods)
        for path, methods in every_route(list(app.routes))
        if path.startswith("/dashboard")
    ]
    assert len(routes) >= 10
    walked = 0
    for path, methods in routes:
        if path.removeprefix("/dashboard") in PUBLIC:
            continue
        url = concrete(path)
        for method in methods - {"HEAD"}:
            page = client.request(method, url)
            assert page.status_code == 303, (method, url, page.status_code)
            assert page.headers["location"] == "/dashboard/login"
            for headers in ({"HX-Request": "true"}, {"Accept": "application/json"}):
                answer = client.request(method, url, headers=headers)
                assert answer.status_code == 401, (method, url, headers)
                assert answer.headers["hx-redirect"] == "/dashboard/login"
            walked += 1
    assert walked >= 9


def test_unknown_dashboard_paths_also_ask_for_a_session(client: TestClient) -> None:
    assert client.get("/dashboard/no/such/page").status_code == 303
    assert client.get("/dashboard").status_code in (303, 307)


def test_sign_in_with_the_right_password_and_out_again(client: TestClient) -> None:
    login = client.get("/dashboard/login")
    assert 'name="email"' in login.text and "Sign in" in login.text
    signed_in(client)
    overview = client.get("/dashboard/")
    assert overview.status_code == 200
    assert "Sign out" in overview.text and "Overview" in overview.text
    stolen = dict(client.cookies)
    out = client.post("/dashboard/logout", data={"csrf": form_token(client, "/dashboard/")})
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login?bye=1"
    assert client.get("/dashboard/").status_code == 303
    client.cookies.clear()
    client.cookies.update(stolen)  # a copy of the old cookie no longer works either
    assert client.get("/dashboard/").status_code == 303


def test_the_session_cookie_is_httponly_and_lax(client: TestClient) -> None:
    answer = client.get("/dashboard/login")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/dashboard" in cookie
    assert "secure" not in cookie


def test_the_cookie_is_secure_behind_https(dashboard_database: Database, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    from bot.runtime import build_runtime
    from tests.dashboard.conftest import settings_for

    settings = settings_for(
        str(dashboard_database.engine.url.render_as_string(hide_password=False)),
        fake_twilio,
        public_base_url="https://jobline.example.org",
    )
    with TestClient(build_runtime(settings, dashboard_database)) as secure:
        assert "secure" in secure.get("/dashboard/login").headers["set-cookie"].lower()


def test_a_wrong_password_and_an_unknown_email_read_the_same(client: TestClient) -> None:
    token = form_token(client)
    wrong = client.post(
        "/dashboard/login", data={"email": ADMIN, "password": "nope nope", "csrf": token}
    )
    nobody = client.post(
        "/dashboard/login", data={"email": "who@x.org", "password": "nope nope", "csrf": token}
    )
    assert wrong.status_code == nobody.status_code == 401
    message = "That email and password do not match an account that can sign in."
    assert message in wrong.text and message in nobody.text
    assert client.get("/dashboard/").status_code == 303


def test_five_failures_refuse_the_email_for_15_minutes(app: Starlette, client: TestClient) -> None:
    clock = Clock()
    app.state.runtime.jobline.clock = clock
    for email in (ADMIN, "nobody@jobline.test"):
        token = form_token(client)
        for _ in range(5):
            client.post(
                "/dashboard/login", data={"email": email, "password": "x" * 9, "csrf": token}
            )
        right = client.post(
            "/dashboard/login", data={"email": email, "password": PASSWORD, "csrf": token}
        )
        assert right.status_code == 429
        assert "Too many tries for this email. Wait 15 minutes" in right.text
    clock.advance(minutes=14)
    assert signed_in_fails(client, ADMIN)
    clock.advance(minutes=2)
    signed_in(client)  # 16 minutes after the fifth failure: allowed again
    assert client.get("/dashboard/").status_code == 200


def signed_in_fails(client: TestClient, email: str) -> bool:
    """Does signing in with the right password get refused?"""
    answer = client.post(
        "/dashboard/login",
        data={"email": email, "password": PASSWORD, "csrf": form_token(client)},
    )
    return answer.status_code == 429


def test_eight_idle_hours_end_the_session(app: Starlette, client: TestClient) -> None:
    clock = Clock()
    app.state.runtime.jobline.clock = clock
    signed_in(client)
    clock.advance(hours=7, minutes=59)
    assert client.get("/dashboard/").status_code == 200  # and the idle time starts again
    clock.advance(hours=7, minutes=59)
    assert client.get("/dashboard/").status_code == 200
    clock.advance(hours=8, minutes=1)
    assert client.get("/dashboard/").status_code == 303


def test_disabling_or_a_new_password_ends_sessions(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    with transaction(dashboard_database.sessions) as session:
        staff = session.scalar(select(Staff).where(Staff.email == ADMIN))
        assert staff is not None
        set_password(session, staff, "another pass 9")
    assert client.get("/dashboard/").status_code == 303
    signed_in(client, ADMIN, "another pass 9")
    assert client.get("/dashboard/").status_code == 200
    with transaction(dashboard_database.sessions) as session:
        disable_staff(session, ADMIN)
    assert client.get("/dashboard/").status_code == 303
    refused = client.post(
        "/dashboard/login",
        data={"email": ADMIN, "password": "another pass 9", "csrf": form_token(client)},
    )
    assert refused.status_code == 401


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_a_change_without_the_right_token_is_refused_and_changes_nothing(
    client: TestClient, dashboard_database: Database, token: str | None
) -> None:
    signed_in(client)
    data = {"language": "zh", "back": "/dashboard/"}
    if token is not None:
        data["csrf"] = token
    answer = client.post("/dashboard/language", data=data)
    assert answer.status_code == 403
    with dashboard_database.sessions() as session:
        staff = session.scalar(select(Staff).where(Staff.email == ADMIN))
        assert staff is not None and staff.language == "en"
        assert session.scalar(select(AuditEntry)) is None
    header = client.post(
        "/dashboard/language",
        data=data,
        headers={"X-CSRF-Token": form_token(client, "/dashboard/")},
    )
    assert header.status_code == 303
    with dashboard_database.sessions() as session:
        staff = session.scalar(select(Staff).where(Staff.email == ADMIN))
        assert staff is not None and staff.language == "zh"
        entry = session.scalar(select(AuditEntry))
        assert entry is not None and entry.staff_email == ADMIN
        assert (entry.before, entry.after) == ({"language": "en"}, {"language": "zh"})


def test_sign_in_needs_the_login_page_token(client: TestClient) -> None:
    client.get("/dashboard/login")
    answer = client.post("/dashboard/login", data={"email": ADMIN, "password": PASSWORD})
    assert answer.status_code == 403
    assert client.get("/dashboard/").status_code == 303


def test_the_login_page_follows_the_browser_and_staff_their_own_language(
    client: TestClient,
) -> None:
    chinese = client.get("/dashboard/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert "登录" in chinese.text and 'lang="zh-CN"' in chinese.text
    english = client.get("/dashboard/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Sign in" in english.text
    signed_in(client, CASEWORKER)
    page = client.get("/dashboard/", headers={"Accept-Language": "en"})
    assert "概览" in page.text and "退出" in page.text


def test_only_admins_see_staff_pages(client: TestClient) -> None:
    signed_in(client, CASEWORKER)
    assert "/dashboard/staff" not in client.get("/dashboard/").text
    assert client.get("/dashboard/staff").status_code == 403
    assert client.get("/dashboard/audit").status_code == 403


def test_a_too_large_change_is_refused(client: TestClient) -> None:
    signed_in(client)
    answer = client.post("/dashboard/language", content=b"x" * (9 * 1024 * 1024))
    assert answer.status_code == 413


def test_failures_count_across_app_processes(
    client: TestClient, dashboard_settings: Settings, dashboard_database: Database
) -> None:
    from bot.runtime import build_runtime

    second_app = build_runtime(dashboard_settings, dashboard_database)
    other = TestClient(second_app, follow_redirects=False)
    for number in range(5):  # the failures alternate between two apps on one database
        each = client if number % 2 else other
        wrong = {"email": ADMIN, "password": "x" * 9, "csrf": form_token(each)}
        answer = each.post("/dashboard/login", data=wrong)
        assert answer.status_code == (401 if number < 4 else 429)  # the fifth refuses it
    for each in (client, other):
        assert signed_in_fails(each, ADMIN)
    with dashboard_database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 5
    other.close()
