"""Places and job categories (reference/reference.yaml) as NLU sees them: entities in text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from nlu.parse import Entity
from reference import Reference, load_reference

_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Term:
    """One canonical entity value (a place name or a category slug) and what seekers call it."""

    entity: str
    value: str
    aliases: tuple[str, ...]

    def spellings(self) -> tuple[str, ...]:
        """Every spelling that means this value, canonical first, without duplicates."""
        seen: dict[str, None] = {}
        for spelling in (self.value, self.value.lower(), *self.aliases):
            if spelling.strip():
                seen.setdefault(spelling.strip(), None)
        return tuple(seen)


@dataclass(frozen=True)
class Gazetteer:
    """Places (entity `location`) and job categories (entity `job_category`)."""

    places: tuple[Term, ...]
    categories: tuple[Term, ...]

    # Built once per gazetteer, kept on it: an lru_cache keyed by the gazetteer hashed every
    # term on each call (about 150 hashes, a tenth of a job-search turn's CPU).
    @cached_property
    def _by_spelling(self) -> dict[tuple[str, str], str]:
        return _index(self)

    @cached_property
    def _matchers(self) -> tuple[tuple[str, re.Pattern[str], dict[str, str]], ...]:
        return _patterns(self)

    def terms(self) -> tuple[Term, ...]:
        """All terms, places first."""
        return self.places + self.categories

    def canonical(self, entity: str, value: str) -> str | None:
        """Map any known spelling of a value to its canonical form, or None if unknown."""
        return self._by_spelling.get((entity, _fold(value)))

    def find(self, text: str) -> tuple[Entity, ...]:
        """Find every known place and category named in free text (longest spelling wins)."""
        found: list[tuple[int, Entity]] = []
        taken: list[tuple[int, int]] = []
        for entity, pattern, lookup in self._matchers:
            for match in pattern.finditer(text):
                start, end = match.span()
                if any(start < t_end and t_start < end for t_start, t_end in taken):
                    continue
                value = lookup[_fold(match.group(0))]
                taken.append((start, end))
                found.append((start, Entity(entity, value)))
        unique: dict[Entity, None] = {}
        for _, item in sorted(found, key=lambda pair: pair[0]):
            unique.setdefault(item, None)
        return tuple(unique)


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def _index(gazetteer: Gazetteer) -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for term in gazetteer.terms():
        for spelling in term.spellings():
            index.setdefault((term.entity, _fold(spelling)), term.value)
    return index


def _patterns(gazetteer: Gazetteer) -> tuple[tuple[str, re.Pattern[str], dict[str, str]], ...]:
    patterns = []
    for entity, terms in (("location", gazetteer.places), ("job_category", gazetteer.categories)):
        lookup: dict[str, str] = {}
        for term in terms:
            for spelling in term.spellings():
                lookup.setdefault(_fold(spelling), term.value)
        alternatives = []
        for spelling in sorted(lookup, key=len, reverse=True):
            body = r"\s+".join(re.escape(word) for word in spelling.split())
            # Chinese has no spaces between words, so CJK spellings match anywhere.
            alternatives.append(body if _CJK.search(spelling) else rf"(?<!\w){body}(?!\w)")
        pattern = re.compile("|".join(alternatives), re.IGNORECASE)
        patterns.append((entity, pattern, lookup))
    return tuple(patterns)


def gazetteer_from(reference: Reference) -> Gazetteer:
    """The shared place and category list (reference/reference.yaml) as typed terms."""
    places = tuple(Term("location", place.name, place.aliases) for place in reference.places)
    categories = tuple(
        Term("job_category", category.slug, (category.name, *category.aliases))
        for category in reference.categories
    )
    return Gazetteer(places=places, categories=categories)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The reference list shipped with the repository, read once."""
    return gazetteer_from(load_reference())
