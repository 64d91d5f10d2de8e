"""Only well-formed Rasa answers become results; everything else is a RasaBadAnswer."""

from __future__ import annotations

from typing import Any

import pytest

from nlu.client import RasaBadAnswer, result_from_json


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "find_jobs",
        {},
        {"intent": None},
        {"intent": {"name": "", "confidence": 0.9}},
        {"intent": {"name": 3, "confidence": 0.9}},
        {"intent": {"name": "find_jobs"}},
        {"intent": {"name": "find_jobs", "confidence": "0.9"}},
        {"intent": {"name": "find_jobs", "confidence": True}},
        {"intent": {"name": "find_jobs", "confidence": float("nan")}},
        {"intent": {"name": "find_jobs", "confidence": 1.5}},
        {"intent": {"name": "find_jobs", "confidence": -0.1}},
    ],
)
def test_garbage_is_refused(body: Any) -> None:
    with pytest.raises(RasaBadAnswer):
        result_from_json(body)


def test_odd_entities_are_skipped() -> None:
    result = result_from_json(
        {
            "intent": {"name": "find_jobs", "confidence": 0.9},
            "entities": ["x", {"entity": "location"}, {"entity": "location", "value": "Daoli"}],
        }
    )
    assert result.intent == "find_jobs"
    assert result.entities == (("location", "Daoli"),)


def test_the_runners_up_are_kept_and_odd_ones_skipped() -> None:
    result = result_from_json(
        {
            "intent": {"name": "find_jobs", "confidence": 0.6},
            "intent_ranking": [
                {"name": "find_jobs", "confidence": 0.6},
                {"name": "register", "confidence": 0.3},
                {"name": "greet"},
                {"name": "stop", "confidence": float("nan")},
                "garbage",
            ],
        }
    )
    assert result.ranking == (("find_jobs", 0.6), ("register", 0.3))
    assert result_from_json({"intent": {"name": "greet", "confidence": 1.0}}).ranking == ()
