"""Known places and categories found in free text, in canonical form."""

from __future__ import annotations

import pytest

from nlu.gazetteer import default_gazetteer
from nlu.parse import Entity

LOCATION, CATEGORY = "location", "job_category"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs in daoli", [Entity(LOCATION, "Daoli")]),
        ("cleaning jobs in NanGang", [Entity(CATEGORY, "cleaning"), Entity(LOCATION, "Nangang")]),
        (
            "street cleaning in harbin city",
            [Entity(CATEGORY, "cleaning"), Entity(LOCATION, "Harbin")],
        ),
        ("securty work dao  li", [Entity(CATEGORY, "security"), Entity(LOCATION, "Daoli")]),
        ("在道里找保洁工作", [Entity(LOCATION, "Daoli"), Entity(CATEGORY, "cleaning")]),
        ("planting trees", [Entity(CATEGORY, "gardening")]),
        ("what is the weather", []),
        ("cleanliness", []),
    ],
)
def test_find(text: str, expected: list[Entity]) -> None:
    assert list(default_gazetteer().find(text)) == expected


def test_canonical() -> None:
    gazetteer = default_gazetteer()
    assert gazetteer.canonical(LOCATION, "DAOLI") == "Daoli"
    assert gazetteer.canonical(CATEGORY, "Security guard") == "security"
    assert gazetteer.canonical(LOCATION, "Atlantis") is None
    assert gazetteer.canonical(CATEGORY, "Daoli") is None
