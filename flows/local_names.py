"""Place and work names in the seeker's language: Chinese names are the first Chinese alias."""

from __future__ import annotations

import re

from reference import CategoryInfo, PlaceInfo

CJK = re.compile("[\u3400-\u9fff]")
# How a list of names is joined in each language.
JOINERS = {"zh": "，"}


def local_name(info: PlaceInfo | CategoryInfo, language: str) -> str:
    """The name to show: in Chinese the first Chinese alias, else the English name."""
    if language == "zh":
        chinese = next((alias for alias in info.aliases if CJK.search(alias)), None)
        if chinese is not None:
            return chinese
    return info.name


def joined(names: list[str], language: str) -> str:
    """Names as one list, with the language's comma."""
    return JOINERS.get(language, ", ").join(names)
