"""The WeChat channel: what WeChat posts, what Jobline stores and answers, and what it sends."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bot.app import Runtime, create_app
from bot.channels.wechat import (
    PATH,
    WeChatChannel,
    WeChatWebhook,
    menu_definition,
    wechat_api,
)
from bot.channels.wechat_crypto import SafeMode, signature
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings, load_settings
from db.models import Contact, ContactStop, JobFair, Message, OutboxMessage, Seeker
from db.session import transaction
from notify import broadcasts, outbox
from notify.dispatcher import Dispatcher
from tests.conftest import Clock
from tests.conftest import Seeker as TextingSeeker
from tests.fakes.delivery import run_until_idle
from tests.fakes.local_server import free_port
from tests.fakes.people import add_seekers, phone
from tests.fakes.postgres import fresh_postgres_url
from tests.fakes.provider import FakeProvider, HttpChannel
from tests.fakes.seekers import register
from tests.fakes.wechat_api import FakeWeChat

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "wx5ee1f0c0ffee1234"
SECRET = "wechat-test-secret"
TOKEN = "jobline-wechat-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture
def fake_wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat(APP_ID, SECRET).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_wechat: FakeWeChat) -> Settings:
    """The WeChat channel on, safe mode possible, against the fake WeChat API."""
    return load_settings(
        database_url=database_url,
        public_base_url="https://jobline.example",
        wechat={
            "app_id": APP_ID,
            "secret": SECRET,
            "token": TOKEN,
            "aes_key": AES_KEY,
            "api_base_url": fake_wechat.url,
            "templates": {"alert": "TPL_FAIR_ALERT"},
        },
        notify={"quiet_hours": "", "rate_limits": {"wechat": 0}},
    )


class WeChat:
    """WeChat's servers calling Jobline's webhook for one follower."""

    def __init__(self, client: httpx.Client, openid: str = OPENID) -> None:
        self.client = client
        self.openid = openid
        self.count = 0

    def query(self, body: str = "", **extra: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), f"n{self.count}"
        return {
            "signature": signature(TOKEN, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
            **extra,
        }

    def xml(self, kind: str, msg_id: str | None = None, **fields: str) -> str:
        self.count += 1
        parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        msg = f"<MsgId>{msg_id or 1000 + self.count}</MsgId>" if kind != "event" else ""
        return (
            f"<xml><ToUserName><![CDATA[gh_jobline]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{1764000000 + self.count}</CreateTime>"
            f"<MsgType><![CDATA[{kind}]]></MsgType>{parts}{msg}</xml>"
        )

    def post(self, xml: str, query: dict[str, str] | None = None) -> int:
        response = self.client.post(PATH, params=query or self.query(), content=xml.encode())
        if response.status_code == 200:
            assert response.text == "success"
        return response.status_code

    def says(self, text: str, msg_id: str | None = None) -> int:
        return self.post(self.xml("text", msg_id, Content=text))

    def event(self, event: str, **fields: str) -> int:
        return self.post(self.xml("event", Event=event, **fields))

    def says_safely(self, text: str) -> int:
        sealed = SafeMode(AES_KEY, APP_ID).encrypt(self.xml("text", Content=text))
        query = self.query(encrypt_type="aes")
        query["msg_signature"] = signature(TOKEN, query["timestamp"], query["nonce"], sealed)
        return self.post(f"<xml><Encrypt><![CDATA[{sealed}]]></Encrypt></xml>", query)


@pytest.fixture
def wechat(settings: Settings, database: Database, jobline: Jobline) -> Iterator[WeChat]:
    runtime = Runtime(database, jobline)
    routes = WeChatWebhook(settings, runtime.inbox).routes()
    with TestClient(create_app(runtime, list(routes))) as client:
        yield WeChat(client)


def replies(database: Database) -> list[str]:
    with database.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == "wechat")
            .order_by(OutboxMessage.id)
        )
        return [row.text for row in rows]


def stored(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count(Message.id))) or 0


def test_server_url_verification_echoes_only_when_signed(wechat: WeChat) -> None:
    query = wechat.query(echostr="4716503221")
    assert wechat.client.get(PATH, params=query).text == "4716503221"
    forged = {**query, "signature": "0" * 40}
    assert wechat.client.get(PATH, params=forged).status_code == 403


def test_a_new_follower_is_answered_in_chinese(wechat: WeChat, database: Database) -> None:
    assert wechat.says("hi") == 200
    [welcome] = replies(database)
    assert welcome.startswith("您好，我是就业助手")
    with database.sessions() as session:
        seeker = session.scalars(select(Seeker)).one()
    assert seeker.language == "zh" and seeker.phone is None


def test_safe_mode_messages_are_decrypted_and_checked(wechat: WeChat, database: Database) -> None:
    assert wechat.says_safely("菜单") == 200
    assert "回复数字" in replies(database)[-1]
    sealed = SafeMode(AES_KEY, "wx_another_account").encrypt(wechat.xml("text", Content="hi"))
    query = wechat.query(encrypt_type="aes")
    query["msg_signature"] = signature(TOKEN, query["timestamp"], query["nonce"], sealed)
    assert wechat.post(f"<xml><Encrypt>{sealed}</Encrypt></xml>", query) == 403
    query["msg_signature"] = "f" * 40
    assert wechat.post(f"<xml><Encrypt>{sealed}</Encrypt></xml>", query) == 403
    assert len(replies(database)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not xml", 400),
        ("<html></html>", 400),
        ("<xml><FromUserName>x</FromUserName></xml>", 400),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><xml>&a;</xml>', 400),
        ("<xml>" + "a" * 70_000 + "</xml>", 413),
    ],
)
def test_bad_bodies_get_4xx_and_store_nothing(
    wechat: WeChat, database: Database, body: str, status: int
) -> None:
    assert wechat.post(body) == status
    assert stored(database) == 0


def test_a_forged_or_unsigned_message_gets_403(wechat: WeChat, database: Database) -> None:
    xml = wechat.xml("text", Content="hi")
    assert wechat.post(xml, {**wechat.query(), "signature": "1" * 40}) == 403
    assert wechat.client.post(PATH, content=xml.encode()).status_code == 403
    assert stored(database) == 0


def test_wechat_retries_are_answered_once(wechat: WeChat, database: Database) -> None:
    for _ in range(3):  # WeChat retries three times when we are slow
        assert wechat.says("hi", msg_id="6054768590064713728") == 200
    assert stored(database) == 1
    assert len(replies(database)) == 1


def test_events_subscribe_menu_click_location_unsubscribe(
    wechat: WeChat, database: Database
) -> None:
    assert wechat.event("subscribe") == 200
    assert replies(database)[-1].startswith("您好，我是就业助手")
    assert wechat.event("CLICK", EventKey="MENU_3") == 200
    assert "招聘会" in replies(database)[-1]
    before = len(replies(database))
    assert wechat.event("LOCATION", Latitude="45.7580", Longitude="126.6200", Precision="30") == 200
    assert len(replies(database)) > before
    before = len(replies(database))
    assert wechat.event("unsubscribe") == 200
    assert len(replies(database)) == before  # nobody is there to read an answer
    with database.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        # Unfollowing stops this chat, not the seeker (their texts go on).
        assert contact.stopped == ContactStop.BLOCKED and not contact.seeker.opted_out
    assert wechat.event("subscribe") == 200  # following again makes the chat reachable
    assert len(replies(database)) == before + 1
    with database.sessions() as session:
        assert session.scalars(select(Contact)).one().stopped is None


def test_a_poster_qr_code_opens_its_fair(wechat: WeChat, database: Database) -> None:
    with database.sessions() as session:
        fair = session.scalars(select(JobFair)).first()
        assert fair is not None
    assert wechat.event("subscribe", EventKey=f"qrscene_fair_{fair.id}") == 200
    assert fair.name in "\n".join(replies(database)) or fair.venue in "\n".join(replies(database))


def deliver(settings: Settings, database: Database, clock: Clock) -> Dispatcher:
    """Send what is queued; the test clock ticks from its `now` so retries come due."""
    started = time.monotonic()

    def ticking() -> datetime:
        return clock.now + timedelta(seconds=time.monotonic() - started)

    @asynccontextmanager
    async def wechat() -> AsyncIterator[dict[str, Any]]:
        api = wechat_api(settings, database.sessions, ticking)
        try:
            yield {"wechat": WeChatChannel(api, settings.wechat.templates)}
        finally:
            await api.close()

    return run_until_idle(database.sessions, settings, ticking, wechat, timeout=30)


def statuses(database: Database) -> list[tuple[str, str | None]]:
    with database.sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.status, row.last_error) for row in rows]


def test_replies_go_out_as_customer_service_messages(
    wechat: WeChat, database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    wechat.says("hi")
    wechat.says("1")
    fake_wechat.fail_next = [45009]  # over the frequency limit once: retried
    deliver(settings, database, clock)
    sent = fake_wechat.sent()
    assert [body["touser"] for body in sent] == [OPENID] * len(replies(database))
    assert {body["msgtype"] for body in sent} == {"text"}
    assert sorted(body["text"]["content"] for body in sent) == sorted(replies(database))
    assert {status for status, _ in statuses(database)} == {"sent"}
    assert fake_wechat.tokens_issued == 1


def test_a_stale_token_is_refreshed_once_and_the_send_goes_on(
    wechat: WeChat, database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    wechat.says("hi")
    deliver(settings, database, clock)
    fake_wechat.token = "revoked-elsewhere"  # e.g. someone fetched a token by hand
    wechat.says("菜单")
    deliver(settings, database, clock)
    assert fake_wechat.tokens_issued == 2
    assert [status for status, _ in statuses(database)] == ["sent", "sent"]


def test_past_48_hours_a_reply_is_kept_until_the_seeker_writes(
    wechat: WeChat, database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    wechat.says("hi")
    fake_wechat.window_closed.add(OPENID)
    deliver(settings, database, clock)
    [(status, error)] = statuses(database)
    assert status == "held" and error is not None and "48 hours" in error
    fake_wechat.window_closed.clear()  # writing opens the 48 hours again
    wechat.says("菜单")
    deliver(settings, database, clock)
    assert [status for status, _ in statuses(database)] == ["sent", "sent"]
    assert len(fake_wechat.sent()) == 2


def test_past_48_hours_a_fair_alert_goes_as_a_template_and_a_broadcast_waits(
    wechat: WeChat, database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    wechat.says("hi")
    deliver(settings, database, clock)
    fake_wechat.window_closed.add(OPENID)
    with transaction(database.sessions) as session:
        contact = session.scalars(select(Contact).where(Contact.channel == "wechat")).one()
        outbox.queue(
            session,
            contact=contact,
            text="招聘会明天",
            idempotency_key="a",
            kind="alert",
            now=clock(),
        )
        news = broadcasts.create(
            session, segment=broadcasts.parse_segment("all"), text="办公室周五关门", now=clock()
        )
        news_id = news.id
        outbox.queue(
            session,
            contact=contact,
            text="办公室周五关门",
            idempotency_key="b",
            kind="broadcast",
            broadcast_id=news_id,
            now=clock(),
        )
    deliver(settings, database, clock)
    [template] = fake_wechat.sent("template")
    assert template["template_id"] == "TPL_FAIR_ALERT"
    assert template["data"]["content"]["value"] == "招聘会明天"
    with database.sessions() as session:
        counts = broadcasts.report(session, news_id)["counts"]
    assert counts["held"] == 1 and counts["sent"] == 0


def test_unsubscribed_stops_the_contact(
    wechat: WeChat, database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    wechat.says("hi")
    fake_wechat.unsubscribed.add(OPENID)
    deliver(settings, database, clock)
    assert statuses(database)[-1][0] == "failed"
    with database.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.stopped == ContactStop.BLOCKED and not contact.seeker.opted_out


def test_the_menu_offers_the_text_menus_numbers() -> None:
    menu = menu_definition("zh")
    keys = [sub["key"] for group in menu["button"] for sub in group["sub_button"]]
    assert sorted(keys) == ["MENU_1", "MENU_2", "MENU_3", "MENU_4", "MENU_5", "MENU_6", "MENU_9"]
    assert len(menu["button"]) <= 3 and all(len(g["sub_button"]) <= 5 for g in menu["button"])
    names = [sub["name"] for group in menu["button"] for sub in group["sub_button"]]
    assert "附近的工作" in names and "找人工" in names


def test_jobline_wechat_menu_sets_it(settings: Settings, fake_wechat: FakeWeChat) -> None:
    env = {
        "JOBLINE_DATABASE_URL": settings.database_url,
        "JOBLINE_WECHAT__APP_ID": APP_ID,
        "JOBLINE_WECHAT__SECRET": SECRET,
        "JOBLINE_WECHAT__TOKEN": TOKEN,
        "JOBLINE_WECHAT__API_BASE_URL": fake_wechat.url,
    }
    done = run_jobline(["wechat", "menu"], env)
    assert done.returncode == 0, done.stderr
    assert fake_wechat.menu == menu_definition("zh")


def run_jobline(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


TOKEN_SCRIPT = """
import sys
from bot.channels.wechat_token import AccessTokens, fetcher
from db.models import utcnow
from db.session import make_engine, make_session_factory
sessions = make_session_factory(make_engine(sys.argv[1]))
tokens = AccessTokens(sessions, fetcher(sys.argv[2], sys.argv[3], sys.argv[4]), utcnow)
print(tokens.current(sys.argv[5] or None))
"""


def test_two_processes_share_one_token_and_refresh_it_once(
    database: Database, settings: Settings, fake_wechat: FakeWeChat
) -> None:
    def both(stale: str = "") -> list[str]:
        args = [settings.database_url, fake_wechat.url, APP_ID, SECRET, stale]
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", TOKEN_SCRIPT, *args],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        return [process.communicate(timeout=60)[0].strip() for process in processes]

    first = both()
    assert first[0] == first[1] == fake_wechat.token
    assert fake_wechat.tokens_issued == 1
    second = both(stale=first[0])  # WeChat refused it in both: one refresh between them
    assert second[0] == second[1] == fake_wechat.token != first[0]
    assert fake_wechat.tokens_issued == 2


def code_texted(database: Database, phone: str) -> str:
    """The 6-digit code in the last SMS to this phone."""
    with database.sessions() as session:
        row = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == "sms", OutboxMessage.address == phone)
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert row is not None
    found = re.search(r"\d{6}", row.text)
    assert found is not None
    return found.group()


def seeker_of_wechat(database: Database) -> Seeker:
    with database.sessions() as session:
        contact = session.scalars(select(Contact).where(Contact.channel == "wechat")).one()
        seeker = session.get(Seeker, contact.seeker_id)
        assert seeker is not None
        return seeker


def test_typing_a_phone_number_links_by_a_code_texted_to_it(
    wechat: WeChat, database: Database, seeker: TextingSeeker
) -> None:
    register(seeker)  # +8613800000001 registered by SMS (console) first
    wechat.says("hi")
    wechat.says("138 0000 0001")
    assert replies(database)[-1] == "验证码已发到+86138****0001。请回复6位验证码，10分钟内有效。"
    code = code_texted(database, "+8613800000001")
    wrong = "000000" if code != "000000" else "111111"
    wechat.says(wrong)
    assert replies(database)[-1] == "验证码不对，还能试4次。请回复6位验证码。"
    wechat.says(code)
    linked = seeker_of_wechat(database)
    assert linked.phone == "+8613800000001" and linked.name == "Wang Lei"
    assert replies(database)[-1].startswith("Jobline menu")  # the known seeker, in their language


def test_five_wrong_codes_lock_and_a_code_runs_out(
    wechat: WeChat, database: Database, clock: Clock
) -> None:
    wechat.says("hi")
    wechat.says("13900000077")
    code = code_texted(database, "+8613900000077")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        wechat.says(wrong)
    assert replies(database)[-1] == "错的次数太多。请10分钟后再发一次手机号。"
    wechat.says(code)  # even the right code, once locked
    assert replies(database)[-1] == "错的次数太多。请10分钟后再发一次手机号。"
    assert seeker_of_wechat(database).phone is None
    wechat.says("13900000077")  # a new code
    clock.advance(minutes=11)
    wechat.says(code_texted(database, "+8613900000077"))
    assert replies(database)[-1] == "验证码过期了。请再发一次手机号，获取新的验证码。"
    assert seeker_of_wechat(database).phone is None


def test_short_codes_and_other_text_are_not_phone_numbers(
    wechat: WeChat, database: Database
) -> None:
    wechat.says("hi")
    wechat.says("10086")
    wechat.says("123456")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.channel == "sms")) == 0


def test_a_broadcast_reaches_wechat_and_sms_seekers_once_each(
    database: Database, settings: Settings, clock: Clock, fake_wechat: FakeWeChat
) -> None:
    add_seekers(database.sessions, 30, first=0, channel="sms")
    add_seekers(database.sessions, 20, first=500, channel="wechat", language="zh")
    with transaction(database.sessions) as session:
        news = broadcasts.create(
            session, segment=broadcasts.parse_segment("all"), text="Fair on Monday", now=clock()
        )
        news_id = news.id
    broadcasts.queue(database.sessions, news_id, settings)
    provider = FakeProvider().start()
    started = time.monotonic()

    def ticking() -> datetime:
        return clock.now + timedelta(seconds=time.monotonic() - started)

    async def go() -> None:
        api = wechat_api(settings, database.sessions, ticking)
        sms = HttpChannel(provider.url)
        dispatcher = Dispatcher(
            database.sessions,
            {"wechat": WeChatChannel(api), "sms": sms},
            settings,
            clock=ticking,
            poll_seconds=0.02,
        )
        try:
            await asyncio.wait_for(dispatcher.run(until_idle=True), timeout=60)
        finally:
            await api.close()
            await sms.close()
            dispatcher.close()

    try:
        asyncio.run(go())
    finally:
        provider.stop()
    by_sms = provider.per_address()
    by_wechat: dict[str, int] = {}
    for body in fake_wechat.sent():
        by_wechat[body["touser"]] = by_wechat.get(body["touser"], 0) + 1
    assert set(by_sms) == {phone(n) for n in range(30)} and set(by_sms.values()) == {1}
    assert set(by_wechat) == {phone(n) for n in range(500, 520)}
    assert set(by_wechat.values()) == {1}
    with database.sessions() as session:
        assert broadcasts.report(session, news_id)["counts"]["sent"] == 50


def test_two_app_processes_share_the_token_and_answer_their_followers(
    postgres_server: str, fake_wechat: FakeWeChat, tmp_path: Path
) -> None:
    for url in fresh_postgres_url(postgres_server):
        ports = [free_port(), free_port()]
        logs = [(tmp_path / f"app{n}.log").open("wb") for n in range(2)]
        env = {
            **os.environ,
            "JOBLINE_DATABASE_URL": url,
            "JOBLINE_NLU__URL": "http://127.0.0.1:9",  # keywords only: no Rasa server here
            "JOBLINE_PUBLIC_BASE_URL": "https://jobline.example",
            "JOBLINE_WECHAT__APP_ID": APP_ID,
            "JOBLINE_WECHAT__SECRET": SECRET,
            "JOBLINE_WECHAT__TOKEN": TOKEN,
            "JOBLINE_WECHAT__API_BASE_URL": fake_wechat.url,
            "JOBLINE_NOTIFY__RATE_LIMITS__WECHAT": "0",
        }
        apps = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for port, log in zip(ports, logs, strict=True)
        ]
        try:
            for port, log in zip(ports, logs, strict=True):
                wait_for_health(port, Path(log.name))
            followers = [f"o_follower_{n:02d}" for n in range(10)]
            for n, openid in enumerate(followers):
                with httpx.Client(base_url=f"http://127.0.0.1:{ports[n % 2]}") as http:
                    caller = WeChat(http, openid)
                    assert caller.says("hi", msg_id=str(7000 + n)) == 200
            deadline = time.monotonic() + 60
            while len(fake_wechat.sent()) < len(followers) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            for app in apps:
                app.terminate()
            for app in apps:
                app.wait(timeout=30)
        assert sorted(body["touser"] for body in fake_wechat.sent()) == followers
        assert fake_wechat.tokens_issued == 1


def wait_for_health(port: int, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"jobline run on port {port} did not answer:\n{log.read_text()[-2000:]}")
