"""Against the real managed Rasa server: what flows rely on, bad input, Rasa dying."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from nlu.parse import Entity
from nlu.server import ManagedRasa, token_file
from nlu.understand import Understander
from tests.conftest import Clock, Seeker

LOCATION, CATEGORY = "location", "job_category"


@pytest.mark.parametrize(
    ("text", "intent", "entities"),
    [
        ("jobs in daoli", "find_jobs", {Entity(LOCATION, "Daoli")}),
        (
            "cleaning jobs in nangang",
            "find_jobs",
            {Entity(CATEGORY, "cleaning"), Entity(LOCATION, "Nangang")},
        ),
        ("can i borrow money to raise pigs", "loan_eligibility", {Entity(CATEGORY, "farming")}),
        ("my husband need work he is 52", "find_jobs", set()),
        ("talk to a person", "human_agent", set()),
        ("找个真人", "human_agent", set()),
        ("我要找个工作人员", "human_agent", set()),
        ("stop sending me messages", "stop", set()),
        ("wat jobs u got", "find_jobs", set()),
        ("when is the job fair", "job_fair", set()),
        ("did they read my application", "application_status", set()),
        ("i want to change my district", "update_profile", set()),
        ("speak chinese", "change_language", set()),
        ("中文", "change_language", set()),
        ("what is the weather in Harbin", "out_of_scope", {Entity(LOCATION, "Harbin")}),
        ("how do I reset my bank card PIN", "out_of_scope", set()),
        (
            "我想在道里找保洁工作",
            "find_jobs",
            {Entity(LOCATION, "Daoli"), Entity(CATEGORY, "cleaning")},
        ),
    ],
)
def test_what_the_flows_rely_on(
    understander: Understander, text: str, intent: str, entities: set[Entity]
) -> None:
    parse = understander.understand(text)
    assert parse.intent == intent, parse
    assert set(parse.entities) == entities
    assert not understander.degraded


def test_a_10000_character_message_is_cut_and_answered(understander: Understander) -> None:
    parse = understander.understand("jobs in daoli " * 715)
    assert len(parse.text) <= 4096
    assert parse.source == "rasa"
    assert parse.intent == "find_jobs"


def test_control_characters_are_stripped(understander: Understander) -> None:
    parse = understander.understand("\x00jobs\x07 in\x1b daoli\x7f\u200b\r\n")
    assert parse.text == "jobs in daoli"
    assert parse.intent == "find_jobs"
    assert parse.entities == (Entity(LOCATION, "Daoli"),)


def test_traditional_characters_are_understood_as_simplified(understander: Understander) -> None:
    parse = understander.understand("我想在道裡找保潔的工作")
    assert parse.text == "我想在道裡找保潔的工作"  # the flows get what the seeker wrote
    assert parse.intent == understander.understand("我想在道里找保洁的工作").intent == "find_jobs"
    assert Entity(LOCATION, "Daoli") in parse.entities


def test_only_control_characters(understander: Understander) -> None:
    parse = understander.understand("\x00\x01\x02\x1b")
    assert parse.text == ""


def test_rasa_killed_mid_conversation_then_restarted(rasa_server: ManagedRasa) -> None:
    client = rasa_server.client(timeout_seconds=2.0)
    talking = Understander(client, retry_after_seconds=0.0)
    assert talking.understand("any jobs in daoli").intent == "find_jobs"
    pid, restarts = rasa_server.pid, rasa_server.restarts
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    time.sleep(0.2)

    started = time.monotonic()
    during = talking.understand("are there jobs in daoli")
    assert time.monotonic() - started < 2.5
    assert (during.intent, during.source) == ("find_jobs", "fallback")
    assert during.entities == (Entity(LOCATION, "Daoli"),)
    assert talking.degraded
    # A text Rasa already answered is answered as Rasa did (its answers are kept).
    kept = talking.understand("Any jobs in Daoli")
    assert (kept.intent, kept.source) == ("find_jobs", "rasa")

    # A conversation that starts while Rasa is down is answered too.
    fresh = Understander(rasa_server.client(timeout_seconds=2.0))
    assert fresh.understand("I am looking for cleaning work").intent == "find_jobs"
    assert fresh.understand("what is the weather").intent == "out_of_scope"
    assert fresh.degraded

    deadline = time.monotonic() + 120
    while rasa_server.restarts == restarts and time.monotonic() < deadline:
        time.sleep(0.5)
    assert rasa_server.wait_until_ready(120), "the watchdog did not bring Rasa back"
    assert rasa_server.pid != pid
    assert talking.understand("any jobs in daoli?").intent == "find_jobs"
    assert not talking.degraded
    client.close()


def test_seeker_words_mid_registration_change_the_topic(
    understander: Understander, settings: Settings, database: Database, clock: Clock
) -> None:
    """A question in the seeker's own words is honoured even while a name is expected."""
    jobline = Jobline(settings, database.sessions, understander=understander, clock=clock)
    seeker = Seeker(jobline, phone="+8613800000031")
    assert "Your name and birth year?" in seeker.says("register")
    assert "Small loans" in seeker.says("can i borrow money to raise pigs")
    assert "Your name and birth year?" in seeker.says("register")
    assert "just your name" in seeker.says("what is the weather in harbin")
    assert "What year were you born?" in seeker.says("Li Xiuying")


def test_rasa_answers_only_to_jobline(rasa_server: ManagedRasa) -> None:
    """Started with a random --auth-token: no other local process can parse or swap the model."""
    with httpx.Client(base_url=rasa_server.url, timeout=5) as stranger:
        assert stranger.put("/model", json={"model_file": "/tmp/evil.tar.gz"}).status_code == 401
        assert stranger.post("/model/parse", json={"text": "jobs"}).status_code == 401
        assert stranger.get("/status").status_code == 401
    client = rasa_server.client()
    assert client.parse("any jobs in daoli").intent == "find_jobs"
    client.close()
    assert rasa_server.pid is not None
    command_line = Path(f"/proc/{rasa_server.pid}/cmdline").read_bytes()
    assert rasa_server.token.encode() not in command_line
    environment = Path(f"/proc/{rasa_server.pid}/environ").read_bytes()
    assert b"JOBLINE_" not in environment
    kept = token_file(rasa_server.settings)
    assert kept.read_text() == rasa_server.token
    assert kept.stat().st_mode & 0o777 == 0o600


def test_the_server_loads_neither_jax_nor_h5py(rasa_server: ManagedRasa) -> None:
    """Serving parses with neither in memory (76 MB): TensorFlow imports them only if it can."""
    client = rasa_server.client()
    assert client.parse("我想在道里找保洁工作").intent == "find_jobs"
    client.close()
    assert rasa_server.pid is not None
    mapped = Path(f"/proc/{rasa_server.pid}/maps").read_text()
    assert "tensorflow" in mapped  # the model is served by TensorFlow, as before
    assert "jaxlib" not in mapped
    assert "h5py" not in mapped
