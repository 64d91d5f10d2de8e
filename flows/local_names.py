"""Place and work names in the seeker's language, from the reference data's zh names."""

from __future__ import annotations

from reference import CategoryInfo, PlaceInfo

# How a list of names is joined in each language.
JOINERS = {"zh": "，"}


def local_name(info: PlaceInfo | CategoryInfo, language: str) -> str:
    """The name to show: in Chinese the reference's zh name, else the English name."""
    if language == "zh" and info.zh:
        return info.zh
    return info.name


def joined(names: list[str], language: str) -> str:
    """Names as one list, with the language's comma."""
    return JOINERS.get(language, ", ").join(names)
