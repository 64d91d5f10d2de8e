"""Admin pages (staff accounts, audit log) and the dashboard's two catalogues of words."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from bot.database import Database
from caseworker.dashboard.web import TEMPLATES
from caseworker.dashboard.words import catalogue, from_accept_language
from db.models import AuditEntry, Staff
from tests.dashboard.conftest import CASEWORKER, PASSWORD, form_token, signed_in


def test_an_admin_adds_and_disables_an_account_and_reads_the_audit_log(
    client: TestClient, dashboard_database: Database
) -> None:
    signed_in(client)
    token = form_token(client, "/dashboard/staff")
    new = {"email": "Wu@Office.cn", "name": "Wu", "role": "caseworker", "language": "zh"}
    short = client.post("/dashboard/staff", data={**new, "password": "short", "csrf": token})
    assert short.status_code == 400 and "at least 8 characters" in short.text
    assert 'value="Wu@Office.cn"' in short.text  # what was typed is kept
    bad_role = client.post(
        "/dashboard/staff", data={**new, "role": "boss", "password": "long enough", "csrf": token}
    )
    assert bad_role.status_code == 400
    added = client.post("/dashboard/staff", data={**new, "password": "long enough", "csrf": token})
    assert added.status_code == 303
    disabled = client.post(
        "/dashboard/staff/active", data={"email": CASEWORKER, "active": "0", "csrf": token}
    )
    assert disabled.status_code == 303
    with dashboard_database.sessions() as session:
        accounts = {s.email: s.active for s in session.scalars(select(Staff))}
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert accounts["wu@office.cn"] is True and accounts[CASEWORKER] is False
    assert [(e.action, e.subject) for e in entries] == [
        ("staff.add", "wu@office.cn"),
        ("staff.disable", CASEWORKER),
    ]
    assert "password" not in str(entries[0].after)
    log = client.get("/dashboard/audit")
    assert "staff.disable" in log.text and "2 in all" in log.text
    caseworker = TestClient(client.app, follow_redirects=False)
    refused = caseworker.post(
        "/dashboard/login",
        data={"email": CASEWORKER, "password": PASSWORD, "csrf": form_token(caseworker)},
    )
    assert refused.status_code == 401


def test_both_catalogues_have_the_same_words_and_every_word_used_exists() -> None:
    english, chinese = catalogue("en"), catalogue("zh")
    assert english.keys() == chinese.keys()
    used: set[str] = set()
    for template in Path(TEMPLATES).glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z0-9_]+)'\s*[,)]", template.read_text(encoding="utf-8")))
    assert used and used <= english.keys(), used - english.keys()
    assert all(value.strip() for value in [*english.values(), *chinese.values()])


def test_the_browser_language_picks_zh_or_en() -> None:
    assert from_accept_language("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert from_accept_language("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert from_accept_language("fr-FR, en;q=0.5, zh;q=0.7") == "zh"
    assert from_accept_language("de") == "zh" and from_accept_language("") == "zh"
    assert from_accept_language("en;q=bad, zh;q=0") == "zh"
