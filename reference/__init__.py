"""The shared list of places and kinds of work (reference/reference.yaml), with fuzzy lookup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import asin, cos, radians, sin, sqrt
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

REFERENCE_FILE = Path(__file__).resolve().parent / "reference.yaml"
EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points, in kilometres."""
    dlat = radians(lat2 - lat1)
    dlon = radians(lon2 - lon1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(sqrt(min(1.0, a)))


PROVINCE = "province"


@dataclass(frozen=True)
class PlaceInfo:
    """A place seekers name: the province, a city, or a district or county of a city."""

    name: str
    kind: str
    city: str | None
    lat: float
    lon: float
    aliases: tuple[str, ...]
    zh: str | None = None

    @property
    def home_city(self) -> str:
        """The city this place belongs to (itself for a city)."""
        return self.city or self.name


@dataclass(frozen=True)
class CategoryInfo:
    """A kind of work, by slug."""

    slug: str
    name: str
    aliases: tuple[str, ...]
    zh: str | None = None


@dataclass(frozen=True)
class Match:
    """What a typed name matched: exact, a near miss to confirm, or nothing."""

    value: str | None
    exact: bool
    suggestions: tuple[str, ...] = ()


class Reference:
    """Places and categories with lookups by name, alias or near-miss spelling."""

    def __init__(self, places: list[PlaceInfo], categories: list[CategoryInfo]) -> None:
        self.places = places
        self.categories = categories
        # A turn that searches asks for places by name a dozen times: looked up, not scanned.
        self._places_by_name = {p.name: p for p in reversed(places)}  # the first of a name wins
        self._within: dict[str, tuple[str, ...]] = {}
        self._province = next((p.name for p in places if p.kind == PROVINCE), None)
        self._place_names = _name_index((p.name, p.aliases) for p in places)
        self._category_names = _name_index([(c.slug, (c.name, *c.aliases)) for c in categories])
        # Near-miss matching scores every name: the answers for texts seen before are kept.
        self._places_matched: dict[str, Match] = {}
        self._categories_matched: dict[str, Match] = {}

    def place(self, name: str) -> PlaceInfo | None:
        """The place with this canonical name."""
        return self._places_by_name.get(name)

    def wider(self, name: str) -> str | None:
        """The next wider place: a district's or county's city, a city's province, else None."""
        info = self.place(name)
        if info is None or info.kind == PROVINCE:
            return None
        if info.city is not None:
            return info.city
        return self._province

    def within(self, name: str) -> tuple[str, ...]:
        """A place and every place inside it (a city's districts, the province's everything)."""
        found = self._within.get(name)
        if found is None:
            info = self.place(name)
            if info is None:
                return (name,)
            if info.kind == PROVINCE:
                found = tuple(p.name for p in self.places)
            else:
                found = (name, *(p.name for p in self.places if p.city == name))
            self._within[name] = found
        return found

    def category(self, slug: str) -> CategoryInfo | None:
        """The category with this slug."""
        return next((c for c in self.categories if c.slug == slug), None)

    def match_place(self, text: str) -> Match:
        """Match typed text to a place name."""
        return _remembered(text, self._place_names, self._places_matched)

    def match_category(self, text: str) -> Match:
        """Match typed text to a category slug."""
        return _remembered(text, self._category_names, self._categories_matched)


def _clean(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split()).strip(" .,!?")


def _name_index(pairs: Iterable[tuple[str, Sequence[str]]]) -> dict[str, str]:
    index: dict[str, str] = {}
    for canonical, aliases in pairs:
        index[_clean(canonical)] = canonical
        for alias in aliases:
            index[_clean(alias)] = canonical
    return index


# Texts whose matches are kept per index (then the oldest half goes).
MATCHES_KEPT = 10_000


def _remembered(text: str, index: dict[str, str], kept: dict[str, Match]) -> Match:
    """_match, from what was kept for this text when it was matched before."""
    found = kept.get(text)
    if found is None:
        found = _match(text, index)
        if len(kept) >= MATCHES_KEPT:
            for old in list(kept)[: MATCHES_KEPT // 2]:
                kept.pop(old, None)  # another thread may have dropped it
        kept[text] = found
    return found


def _match(text: str, index: dict[str, str]) -> Match:
    key = _clean(text)
    if not key:
        return Match(None, False)
    if key in index:
        return Match(index[key], True)
    if len(key) < 3 or not any(char.isalpha() for char in key):
        return Match(None, False)  # "1" or "ok" is not a misspelt place
    found = process.extract(key, list(index), scorer=fuzz.WRatio, limit=5)
    ranked: list[str] = []
    for alias, score, _ in found:
        canonical = index[alias]
        if score >= 60 and canonical not in ranked:
            ranked.append(canonical)
    best = process.extractOne(key, list(index), scorer=fuzz.ratio, score_cutoff=75)
    if best is not None:
        return Match(index[best[0]], False, tuple(ranked[:3]))
    return Match(None, False, tuple(ranked[:3]))


@lru_cache(maxsize=1)
def load_reference(path: Path = REFERENCE_FILE) -> Reference:
    """Load reference/reference.yaml once."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    places = [
        PlaceInfo(
            name=p["name"],
            kind=p["kind"],
            city=p.get("city"),
            lat=float(p["lat"]),
            lon=float(p["lon"]),
            aliases=tuple(p.get("aliases", ())),
            zh=p.get("zh"),
        )
        for p in raw["places"]
    ]
    categories = [
        CategoryInfo(
            slug=c["slug"], name=c["name"], aliases=tuple(c.get("aliases", ())), zh=c.get("zh")
        )
        for c in raw["categories"]
    ]
    return Reference(places, categories)
