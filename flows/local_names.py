"""Place and work names in the seeker's language, from the reference data's zh names."""

from __future__ import annotations

from reference import CategoryInfo, PlaceInfo, Reference

# How a list of names is joined in each language.
JOINERS = {"zh": "，"}


def local_name(info: PlaceInfo | CategoryInfo, language: str) -> str:
    """The name to show: in Chinese the reference's zh name, else the English name."""
    if language == "zh" and info.zh:
        return info.zh
    return info.name


def place_name(reference: Reference, name: str, language: str) -> str:
    """A stored place name as the seeker reads it (its Chinese name in Chinese)."""
    place = reference.place(name)
    return name if place is None else local_name(place, language)


def joined(names: list[str], language: str) -> str:
    """Names as one list, with the language's comma."""
    return JOINERS.get(language, ", ").join(names)
