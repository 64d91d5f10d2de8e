"""understand() never raises: garbage, errors, slowness and absence of Rasa all give a Parse."""

from __future__ import annotations

import json
import logging
import time

import pytest

from nlu.client import RasaClient
from nlu.parse import Entity, Parse
from nlu.understand import Understander, clean_text
from tests.fakes.fake_rasa import ANSWERS, FakeRasa
from tests.nlu.conftest import free_port


def digits_only(text: str, expecting: str | None) -> Parse | None:
    """A stand-in fast path: numbers only."""
    return Parse(text, "number", entities=(Entity("number", text),)) if text.isdigit() else None


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_clean_text_strips_control_characters_and_cuts_long_text() -> None:
    assert clean_text("jobs\x00 in\x1b[31m daoli\u200b\r\n") == "jobs in [31m daoli"
    assert clean_text("ｊｏｂｓ　１") == "jobs 1"
    assert len(clean_text("x" * 10_000, max_chars=500)) == 500
    assert clean_text("\x00\x01\x02") == ""


GOOD_ANSWERS = {"unknown_intent", "bad_entities", "sure_find_jobs", "sure_out_of_scope", "torn"}


@pytest.mark.parametrize("mode", sorted(set(ANSWERS) - GOOD_ANSWERS))
def test_garbage_from_rasa_gives_the_keyword_guess_and_degraded(mode: str) -> None:
    with FakeRasa(mode) as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        parse = understander.understand("cleaning jobs in daoli")
    assert parse.intent == "find_jobs"
    assert parse.source == "fallback"
    assert set(parse.entities) == {Entity("job_category", "cleaning"), Entity("location", "Daoli")}
    assert understander.degraded


def test_an_intent_we_do_not_know_is_out_of_scope() -> None:
    with FakeRasa("unknown_intent") as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        parse = understander.understand("hello")
    assert (parse.intent, parse.source) == ("out_of_scope", "rasa")
    assert not understander.degraded


def test_odd_entities_are_dropped_and_the_rest_made_canonical() -> None:
    with FakeRasa("bad_entities") as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        parse = understander.understand("cleaner work in daoli")
    assert parse.intent == "find_jobs"
    assert set(parse.entities) == {Entity("job_category", "cleaning"), Entity("location", "Daoli")}


def test_rasa_sees_only_the_first_max_chars() -> None:
    with FakeRasa("unknown_intent") as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only, max_chars=500)
        parse = understander.understand("jobs in daoli " * 715)
        sent = json.loads(fake.last_body)["text"]
    assert len(sent) == 500
    assert 4090 <= len(parse.text) <= 4096
    assert parse.intent == "out_of_scope"


def test_digits_never_wait_for_rasa() -> None:
    with FakeRasa("slow", delay=3.0) as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        started = time.monotonic()
        parse = understander.understand("2")
        assert time.monotonic() - started < 0.5
        assert fake.requests == 0
    assert parse.intent == "number"


def test_slow_rasa_times_out_then_is_skipped_for_a_while() -> None:
    clock = Clock()
    with FakeRasa("slow", delay=3.0) as fake:
        understander = Understander(
            RasaClient(fake.url, timeout_seconds=0.5), fast_path=digits_only, clock=clock
        )
        started = time.monotonic()
        first = understander.understand("any jobs")
        assert time.monotonic() - started < 2.0
        second_started = time.monotonic()
        second = understander.understand("any jobs in harbin")
        assert time.monotonic() - second_started < 0.2
        assert fake.requests == 1
        assert understander.degraded
        clock.now += 10
        fake.mode, fake.delay = "slow", 0.0
        third = understander.understand("any jobs")
    assert (first.source, second.source, third.source) == ("fallback", "fallback", "rasa")
    assert first.intent == second.intent == "find_jobs"  # the keyword guess meanwhile
    assert second.entities == (Entity("location", "Harbin"),)
    assert third.intent == "find_jobs"
    assert not understander.degraded


def test_rasa_down_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout_seconds=0.5)
    understander = Understander(client, fast_path=digits_only, retry_after_seconds=0.0)
    with caplog.at_level(logging.WARNING, logger="nlu.understand"):
        parses = [understander.understand("jobs in daoli") for _ in range(5)]
    assert all((p.intent, p.source) == ("find_jobs", "fallback") for p in parses)
    assert parses[0].entities == (Entity("location", "Daoli"),)
    assert understander.degraded
    assert sum("not answering" in r.message for r in caplog.records) == 1


def test_no_rasa_configured_still_answers() -> None:
    understander = Understander(None, fast_path=digits_only)
    assert understander.degraded
    assert understander.understand("7").intent == "number"
    assert understander.understand("what now").intent == "out_of_scope"


def test_a_broken_fast_path_does_not_break_understanding() -> None:
    def broken(text: str, expecting: str | None) -> Parse | None:
        raise ValueError("bug")

    understander = Understander(None, fast_path=broken)
    assert understander.understand("jobs").intent == "find_jobs"
    assert understander.understand("what now").intent == "out_of_scope"


def test_the_default_fast_path_is_the_keyword_module() -> None:
    keywords = pytest.importorskip("nlu.keywords")
    understander = Understander(None)
    assert understander.fast_path is keywords.fast_path
    assert understander.understand("STOP").intent == "stop"
    assert [understander.understand(text).intent for text in ("886", "TTYL")] == ["goodbye"] * 2


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("kai shi", "start"),
        ("KaiShi", "start"),
        ("tui ding", "stop"),
        ("bang zhu", "help"),
        ("ren gong", "human_agent"),
        ("xie xie", "thank_you"),
        ("zaijian", "goodbye"),
        ("bu yao", "deny"),
        ("hao de", "affirm"),
        ("zhao gong zuo", "find_jobs"),
        ("bao ming", "join"),
    ],
)
def test_chinese_command_words_typed_in_pinyin_never_ask_rasa(text: str, intent: str) -> None:
    with FakeRasa("slow", delay=3.0) as fake:
        parse = Understander(RasaClient(fake.url)).understand(text)
        assert fake.requests == 0
    assert parse.intent == intent


def test_a_county_one_letter_from_a_pinyin_command_is_not_taken_for_it() -> None:
    keywords = pytest.importorskip("nlu.keywords")
    assert keywords.fast_path("baoming") is not None
    assert keywords.fast_path("baoqing") is None
    assert keywords.fast_path("hindu") is None


def test_a_birth_year_at_the_year_question_never_asks_rasa() -> None:
    with FakeRasa("slow", delay=0.0) as fake:
        understander = Understander(RasaClient(fake.url))
        answered = understander.understand("1978", expecting="year")
        assert (answered.intent, answered.text, fake.requests) == ("text", "1978", 0)
        understander.understand("1978")  # with no question asked, a number is Rasa's to read
        assert fake.requests == 1


@pytest.mark.parametrize("expecting", [None, "choice", "yesno", "place"])
def test_a_known_place_alone_never_asks_rasa(expecting: str | None) -> None:
    with FakeRasa("slow", delay=0.0) as fake:
        understander = Understander(RasaClient(fake.url))
        parses = [understander.understand(said, expecting=expecting) for said in ("Daoli", "道里")]
        assert fake.requests == 0
    for parse in parses:
        assert (parse.intent, parse.entities) == ("find_jobs", (Entity("location", "Daoli"),))


def test_a_name_that_is_also_a_place_stays_a_name() -> None:
    understander = Understander(None)
    assert understander.understand("Daoli", expecting="text").intent == "text"


def test_rasa_answers_are_kept_by_normalised_text_up_to_a_bound() -> None:
    with FakeRasa("slow", delay=0.0) as fake:
        understander = Understander(RasaClient(fake.url), cache_size=2)
        first = understander.understand("any work for me")
        again = understander.understand("Any  WORK for me!")
        assert fake.requests == 1 and understander.asked == 1
        assert (again.intent, again.source) == (first.intent, "rasa")
        assert again.text == "Any WORK for me!"
        understander.understand("what work is there")
        understander.understand("is there work")  # the first text is the oldest: it goes
        understander.understand("any work for me")
        assert fake.requests == 4


def test_a_kept_answer_is_used_while_rasa_is_down() -> None:
    clock = Clock()
    with FakeRasa("slow", delay=0.0) as fake:
        understander = Understander(RasaClient(fake.url), clock=clock)
        understander.understand("any work for me")
        fake.mode = "server_error"
        down = understander.understand("what now")
        kept = understander.understand("any work for me")
    assert (down.source, understander.degraded) == ("fallback", True)
    assert (kept.intent, kept.source) == ("find_jobs", "rasa")


@pytest.mark.parametrize(
    ("text", "expecting", "intent"),
    [
        ("i need a table for 3 at olive garden for 7", None, "out_of_scope"),
        ("what is on my to-do list", None, "out_of_scope"),
        ("any work for me", None, "find_jobs"),
        ("something near daoli", None, "find_jobs"),
        ("有活吗", None, "find_jobs"),
        ("the second one", "job_choice", "find_jobs"),
    ],
)
def test_a_job_intent_needs_a_sign_of_work_unless_rasa_is_very_sure(
    text: str, expecting: str | None, intent: str
) -> None:
    with FakeRasa("sure_find_jobs") as fake:
        gated = Understander(RasaClient(fake.url), fast_path=digits_only, domain_confidence=0.95)
        sure = Understander(RasaClient(fake.url), fast_path=digits_only, domain_confidence=0.9)
        assert gated.understand(text, expecting=expecting).intent == intent
        assert sure.understand(text, expecting=expecting).intent == "find_jobs"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("找个真人", "human_agent"),
        ("给我找个工作人员说说", "human_agent"),
        ("找個客服", "human_agent"),
        ("i want a real person", "human_agent"),
        ("找个工作", "find_jobs"),
        ("真人也行 帮我找个保洁的活", "find_jobs"),
        ("can a caseworker find me a job", "find_jobs"),
        # A kind of work or a place named is a job search: staff and officer are job words too.
        ("cleaning staff in daoli", "find_jobs"),
        ("security officer", "find_jobs"),
        ("找个真人 我想找保洁", "find_jobs"),
        ("客服 南岗", "find_jobs"),
        ("hotel staff", "find_jobs"),
    ],
)
def test_asking_for_a_person_is_not_a_job_search(text: str, intent: str) -> None:
    with FakeRasa("sure_find_jobs") as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        assert understander.understand(text).intent == intent


def test_a_person_word_answering_a_question_is_an_answer() -> None:
    with FakeRasa("sure_find_jobs") as fake:
        understander = Understander(RasaClient(fake.url), fast_path=digits_only)
        assert understander.understand("客服", expecting="choice").intent == "find_jobs"
        assert understander.understand("客服").intent == "human_agent"


def test_two_intents_close_together_are_out_of_scope() -> None:
    with FakeRasa("torn") as fake:
        torn = Understander(RasaClient(fake.url), fast_path=digits_only, ambiguity=0.2)
        plain = Understander(RasaClient(fake.url), fast_path=digits_only)
        assert torn.understand("jobs or sign up").intent == "out_of_scope"
        assert plain.understand("jobs or sign up").intent == "find_jobs"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "Dear Sir or Madam, I write for my mother, 63 and healthy. She would like light work,"
            " cleaning perhaps, near Nangang. Thank you for your kind help.",
            "find_jobs",
        ),
        ("good morning, my father is 58 and he would like some work, anything at all", "find_jobs"),
        ("hello, is there any training for cooking in daoli this winter please", "training"),
        ("我妈今年52了 身体挺好 想在道里找个保洁的工作 麻烦你们了", "find_jobs"),
        ("how many weeks ago was my car in the shop, i cannot remember", "out_of_scope"),
        ("what does rush hour traffic look like on the bridge into daoli", "out_of_scope"),
        ("my mother would like to know the weather in nangang tomorrow morning", "out_of_scope"),
        ("cleaning jobs in daoli", "out_of_scope"),
        ("找活 女 50 能干", "find_jobs"),
        ("有没有超市卖货的活", "find_jobs"),
        ("想贷款开个店", "loan_eligibility"),
        ("附近有活动中心吗", "out_of_scope"),
        ("我要找工作人员", "out_of_scope"),
        ("孩子报名上学找谁", "out_of_scope"),
        # Office hours, a weekday, work clothes: 工作 that is no request for work.
        ("你们工作时间是几点", "out_of_scope"),
        ("银行工作日几点开门", "out_of_scope"),
        ("哪卖工作服", "out_of_scope"),
        ("找个工作时间短的活", "find_jobs"),
    ],
)
def test_a_long_text_with_strong_work_evidence_overrules_out_of_scope(
    text: str, intent: str
) -> None:
    with FakeRasa("sure_out_of_scope") as fake:
        overruling = Understander(RasaClient(fake.url), fast_path=digits_only, overrule_words=6)
        plain = Understander(RasaClient(fake.url), fast_path=digits_only)
        assert overruling.understand(text).intent == intent
        assert plain.understand(text).intent == "out_of_scope"
