"""`jobline nlu parse` prints the bot's own understanding as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import cli_nlu as cli
from nlu.config import NluSettings
from nlu.server import ManagedRasa
from tests.nlu.conftest import free_port

runner = CliRunner()


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: NluSettings) -> None:
    monkeypatch.setattr(cli, "load_nlu_settings", lambda: settings)


def test_parse_one_message(monkeypatch: pytest.MonkeyPatch, rasa_server: ManagedRasa) -> None:
    use_settings(monkeypatch, NluSettings(url=rasa_server.url, auth_token=rasa_server.token))
    result = runner.invoke(cli.nlu_app, ["parse", "cleaning jobs in nangang"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip())
    assert set(answer) == {"text", "intent", "confidence", "entities"}
    assert answer["intent"] == "find_jobs"
    assert {"entity": "location", "value": "Nangang"} in answer["entities"]
    assert {"entity": "job_category", "value": "cleaning"} in answer["entities"]
    assert 0.0 <= answer["confidence"] <= 1.0


def test_parse_reads_one_message_per_line(
    monkeypatch: pytest.MonkeyPatch, rasa_server: ManagedRasa
) -> None:
    use_settings(monkeypatch, NluSettings(url=rasa_server.url, auth_token=rasa_server.token))
    lines = "wat jobs u got\nwhat is the weather in harbin\n\x00\n"
    result = runner.invoke(cli.nlu_app, ["parse"], input=lines)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["intent"] for a in answers[:2]] == ["find_jobs", "out_of_scope"]
    assert len(answers) == 3


def test_parse_starts_the_managed_server_when_none_answers(
    monkeypatch: pytest.MonkeyPatch, rasa_server: ManagedRasa
) -> None:
    settings = NluSettings(url=f"http://127.0.0.1:{free_port()}", managed_port=free_port())
    use_settings(monkeypatch, settings)
    result = runner.invoke(cli.nlu_app, ["parse", "jobs in daoli"])
    assert result.exit_code == 0, result.output
    assert "no Rasa server answers" in result.stderr
    assert json.loads(result.stdout.strip())["intent"] == "find_jobs"


def test_eval_reports_precision_recall_and_confusions(
    monkeypatch: pytest.MonkeyPatch, rasa_server: ManagedRasa, tmp_path: Path
) -> None:
    use_settings(monkeypatch, NluSettings(url=rasa_server.url, auth_token=rasa_server.token))
    held_out = tmp_path / "held_out.csv"
    held_out.write_text(
        "text,intent\njobs in daoli,find_jobs\nwhat is the weather,out_of_scope\n"
        "is it going to snow,find_jobs\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli.nlu_app, ["eval", str(held_out)])
    assert result.exit_code == 0, result.output
    assert "intent accuracy 66.7% (2/3)" in result.stdout
    assert "find_jobs" in result.stdout and "precision" in result.stdout
    assert "find_jobs -> out_of_scope" in result.stdout
