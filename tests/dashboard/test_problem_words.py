"""Every error a caseworker can see reads in their own language, with fields by human name."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.database import Database
from caseworker.dashboard.words import catalogue, problem
from db.job_import import BadCell
from db.problems import Problem
from tests.dashboard.conftest import CASEWORKER, form_token, signed_in

ROOT = Path(__file__).resolve().parents[2]
# Where the errors a dashboard page can show are raised.
SOURCES = [
    *sorted((ROOT / "caseworker").glob("*.py")),
    *sorted((ROOT / "caseworker" / "dashboard").glob("*.py")),
    ROOT / "db" / "job_import.py",
    ROOT / "notify" / "broadcasts.py",
    ROOT / "notify" / "fairs.py",
]
PROBLEMS = {"Problem", "CaseworkError", "StaffError", "BadSegment", "BadJobFile", "BadCell"}
RAW_FIELDS = ("pay_yuan_month", "public_welfare", "openings", "employer", "category")
POST = {
    "code": "ZH-1",
    "title": "Cleaner",
    "employer": "Daoli Hall",
    "category": "cleaning",
    "place": "Daoli",
    "pay_yuan_month": "lots",
    "hours": "8-17",
    "suits": "Anyone",
    "openings": "1",
    "status": "open",
}


def raised_problems() -> list[tuple[str, int, ast.Call]]:
    """Every `SomeProblem(text, key, **values)` call in the sources."""
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in PROBLEMS
            ):
                calls.append((path.name, node.lineno, node))
    return calls


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_problem_raised_has_words_in_both_languages() -> None:
    english, chinese = catalogue("en"), catalogue("zh")
    calls = raised_problems()
    assert len(calls) > 40
    for where, line, call in calls:
        assert len(call.args) == 2, f"{where}:{line} gives no words key"
        key = call.args[1]
        if isinstance(key, ast.Attribute):  # passes on a lower layer's problem: error.key
            assert key.attr == "key", f"{where}:{line}"
            continue
        keys = [key.body, key.orelse] if isinstance(key, ast.IfExp) else [key]
        given = {keyword.arg for keyword in call.keywords}
        for each in keys:
            assert isinstance(each, ast.Constant) and isinstance(each.value, str), f"{where}:{line}"
            for words in (english, chinese):
                text = words.get(f"problem_{each.value}")
                assert text is not None, f"{where}:{line}: no problem_{each.value}"
                assert placeholders(text) <= given, f"{where}:{line}: {text}"


def test_a_field_is_named_as_the_form_names_it() -> None:
    error = BadCell(
        "pay_yuan_month must be yuan a month", "bad_pay", field="pay_yuan_month", given="x"
    )
    assert problem("zh", error) == "“月薪（元）”请写每月多少元的整数，例如 1800（不是“x”）。"
    assert problem("en", error).startswith("Pay (yuan a month): write yuan a month")
    assert str(error) == "pay_yuan_month must be yuan a month"  # the CLI's words stay


def chinese_page(text: str) -> None:
    """A page in Chinese: its problem has Chinese words, no raw field name, no English error."""
    found = re.search(r'<p class="problem" role="alert">([^<]+)</p>', text)
    assert found, "no problem on the page"
    said = found.group(1)
    assert re.search(r"[\u4e00-\u9fff]", said), said
    assert not any(name in said for name in RAW_FIELDS), said
    assert not re.search(r"\b(must|is empty|unknown|longer than|past)\b", said), said


@pytest.fixture
def zh_client(client: TestClient) -> TestClient:
    """The Chinese-reading caseworker, signed in."""
    return signed_in(client, CASEWORKER)


def send(client: TestClient, path: str, **fields: str) -> str:
    answer = client.post(path, data={**fields, "csrf": form_token(client, "/dashboard/")})
    assert answer.status_code == 400, answer.text[:300]
    return answer.text


def test_a_bad_post_reads_in_chinese(zh_client: TestClient, dashboard_database: Database) -> None:
    text = send(zh_client, "/dashboard/jobs/new", **POST)
    chinese_page(text)
    assert "“月薪（元）”请写每月多少元的整数" in text
    empty = send(
        zh_client, "/dashboard/jobs/new", **{**POST, "pay_yuan_month": "1800", "employer": ""}
    )
    chinese_page(empty)
    assert "“用人单位”是空的" in empty
    far = send(
        zh_client, "/dashboard/jobs/new", **{**POST, "pay_yuan_month": "1800", "place": "Daol"}
    )
    chinese_page(far)


def test_a_bad_csv_reads_in_chinese(zh_client: TestClient) -> None:
    data = (
        b"code,title,employer,category,place,pay_yuan_month,hours,suits\n"
        b"ZH-2,Cook,Canteen,cleaning,Daoli,lots,8-17,Anyone\n"
        b"ZH-3,Cook,Canteen,cleaning,Daoli,1800,8-17,Anyone\n"
    )
    answer = zh_client.post(
        "/dashboard/jobs/import",
        data={"csrf": form_token(zh_client, "/dashboard/jobs")},
        files={"file": ("jobs.csv", data, "text/csv")},
    )
    assert answer.status_code == 400
    assert "没有导入任何内容：1 行有错" in answer.text
    assert "第 2 行：“月薪（元）”请写每月多少元的整数" in answer.text
    missing = zh_client.post(
        "/dashboard/jobs/import",
        data={"csrf": form_token(zh_client, "/dashboard/jobs")},
        files={"file": ("jobs.csv", b"code,title\nA,B\n", "text/csv")},
    )
    assert "没有导入任何内容：文件缺少这些列：employer" in missing.text


def test_a_fair_and_a_broadcast_read_in_chinese(zh_client: TestClient) -> None:
    fair = {"name": "Fair", "venue": "Hall", "district": "Daoli"}
    past = send(zh_client, "/dashboard/fairs", starts="2020-05-01T09:00", **fair)
    chinese_page(past)
    assert "2020-05-01 09:00 已经过去了" in past
    chinese_page(send(zh_client, "/dashboard/fairs", starts="soon", **fair))
    chinese_page(
        send(zh_client, "/dashboard/fairs", starts="2099-05-01T09:00", **{**fair, "venue": " "})
    )
    long = send(zh_client, "/dashboard/broadcasts/preview", text="x" * 5000, segment="all")
    chinese_page(long)
    assert "消息有 5000 个字符" in long
    chinese_page(send(zh_client, "/dashboard/broadcasts/preview", text="", segment="all"))
    chinese_page(send(zh_client, "/dashboard/broadcasts/preview", text="Hi", segment="everyone"))


def test_staff_problems_read_in_the_admins_language(client: TestClient) -> None:
    signed_in(client)  # the admin reads English
    short = send(
        client,
        "/dashboard/staff",
        email="wu@office.cn",
        role="caseworker",
        language="zh",
        password="short",
    )
    assert "The password needs at least 8 characters." in short
    assert isinstance(Problem("x", "y"), ValueError)  # callers that catch ValueError still do
