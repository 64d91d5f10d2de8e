"""The message catalogue: every seeker-facing text, by key and language."""

from __future__ import annotations

import string
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flows.types import Button

TEXTS = Path(__file__).resolve().parent / "texts"
FALLBACK = "en"


@lru_cache(maxsize=8)
def catalogue(language: str) -> dict[str, str]:
    """All templates for one language (missing keys fall back to English)."""
    english = _load(FALLBACK)
    if language == FALLBACK or not (TEXTS / f"{language}.yaml").exists():
        return english
    return {**english, **_load(language)}


def _load(language: str) -> dict[str, str]:
    data = yaml.safe_load((TEXTS / f"{language}.yaml").read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


def languages() -> list[str]:
    """The languages that have a catalogue."""
    return sorted(p.stem for p in TEXTS.glob("*.yaml") if not p.stem.startswith("worst_case"))


def placeholders(template: str) -> list[str]:
    """The names a template needs."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def render(key: str, language: str = FALLBACK, **values: Any) -> str:
    """The text for a key, with its values filled in."""
    return catalogue(language)[key].format(**values)


def worst_case(language: str) -> dict[str, Any]:
    """The longest value of each placeholder in a language's texts (for the length test)."""
    values = yaml.safe_load((TEXTS / "worst_case.yaml").read_text(encoding="utf-8"))
    own = TEXTS / f"worst_case.{language}.yaml"
    if language != FALLBACK and own.exists():
        values.update(yaml.safe_load(own.read_text(encoding="utf-8")))
    return dict(values)


@lru_cache(maxsize=8)
def button_words(language: str) -> dict[str, str]:
    """Chat-app button labels in a language (English label -> label), empty for English."""
    path = TEXTS / "buttons" / f"{language}.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


def local_buttons(items: tuple[Button, ...], language: str) -> tuple[Button, ...]:
    """Buttons with their labels in the seeker's language (what they ask to share unchanged)."""
    words = button_words(language)
    return tuple(replace(item, label=words.get(item.label, item.label)) for item in items)
