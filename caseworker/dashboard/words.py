"""The dashboard's own words in zh and en (separate from the seeker catalogue)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from db.problems import Problem

WORDS_DIR = Path(__file__).resolve().parent / "words"
LANGUAGES = ("zh", "en")


@cache
def catalogue(language: str) -> dict[str, str]:
    """Every word of one language, by key."""
    data = yaml.safe_load((WORDS_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


def word(language: str, key: str, /, **values: Any) -> str:
    """One dashboard word in a language (zh when the language is unknown)."""
    text = catalogue(language if language in LANGUAGES else "zh")[key]
    return text.format(**values) if values else text


def from_accept_language(header: str) -> str:
    """The first of zh or en the browser asks for (by q), else zh."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "zh"


def problem(language: str, error: Problem) -> str:
    """What is wrong, in the staff member's words: `problem_<key>`, a column by its human name."""
    values = dict(error.values)
    if "field" in values:
        values["field"] = word(language, f"field_{values['field']}")
    return word(language, f"problem_{error.key}", **values)
