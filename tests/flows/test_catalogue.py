"""Every text a seeker can receive fits in at most 3 SMS segments, with worst-case values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.catalogue import TEXTS, catalogue, languages, placeholders, render, worst_case
from notify.sms import make_sms_safe, segments

WORST = yaml.safe_load((TEXTS / "worst_case.yaml").read_text(encoding="utf-8"))
ALL = [(language, key) for language in languages() for key in catalogue(language)]


@pytest.mark.parametrize(("language", "key"), ALL)
def test_every_template_fits_three_segments(language: str, key: str) -> None:
    template = catalogue(language)[key]
    missing = [name for name in placeholders(template) if name not in WORST]
    assert not missing, f"add worst-case values for {missing} to worst_case.yaml"
    text = make_sms_safe(render(key, language, **worst_case(language)))
    assert segments(text) <= 3, f"{key} is {segments(text)} segments: {text!r}"


def test_most_templates_fit_one_segment() -> None:
    one = [
        k for lang, k in ALL if segments(make_sms_safe(render(k, lang, **worst_case(lang)))) == 1
    ]
    assert len(one) / len(ALL) >= 0.8


def test_every_key_used_in_code_exists() -> None:
    import re

    used: set[str] = set()
    for path in Path("flows").rglob("*.py"):
        used |= set(re.findall(r'Reply\("([a-z_]+)"', path.read_text()))
        used |= set(re.findall(r'reply\(\s*"([a-z_]+)"', path.read_text()))
    missing = used - set(catalogue("en"))
    assert not missing
