"""Loan eligibility as data: groups of conditions and required conditions, read in 3 values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from flows.config import LoanSettings

# A known answer: True, False, or None for "not sure". A condition not in the mapping is unasked.
Known = Mapping[str, bool | None]

ELIGIBLE = "eligible"
PROBABLY = "probably"
NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True)
class Rules:
    """Who the loan is for: any one group (all its needs) and every required condition."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    required: tuple[str, ...]

    @classmethod
    def from_settings(cls, loans: LoanSettings) -> Rules:
        """Rules from the loans settings (config.yaml)."""
        groups = tuple((g.name, tuple(g.needs)) for g in loans.groups)
        return cls(groups, tuple(loans.required))

    def conditions(self) -> list[str]:
        """Every condition the rules use, in the order they would be asked."""
        order = list(self.required)
        for _, needs in self.groups:
            order += [c for c in needs if c not in order]
        return order


@dataclass(frozen=True)
class Verdict:
    """Eligible, probably or not eligible with the conditions that decided it; or what to ask."""

    outcome: str | None
    because: tuple[str, ...] = ()
    ask: str | None = None


def _all(values: Iterable[bool | None]) -> bool | None:
    seen = list(values)
    if False in seen:
        return False
    return True if all(v is True for v in seen) else None


def _any(values: Iterable[bool | None]) -> bool | None:
    seen = list(values)
    if True in seen:
        return True
    return False if all(v is False for v in seen) else None


def decide(rules: Rules, known: Known) -> Verdict:
    """The verdict when the answers so far settle it, else the next condition to ask."""
    required = _all(known.get(c) for c in rules.required)
    groups = [(name, needs, _all(known.get(c) for c in needs)) for name, needs in rules.groups]
    in_group = _any(value for _, _, value in groups) if groups else True
    overall = _all((required, in_group))
    if overall is True:
        needs = next(n for _, n, value in groups if value is True) if groups else ()
        return Verdict(ELIGIBLE, (*rules.required, *needs))
    if overall is False:
        failed = tuple(c for c in rules.required if known.get(c) is False)
        if not failed:
            failed = tuple(next(c for c in n if known.get(c) is False) for _, n, _ in groups)
        return Verdict(NOT_ELIGIBLE, _unique(failed))
    # Only conditions that can still change the answer are asked, or named as "to check".
    relevant = list(rules.required)
    if in_group is not True:
        for _, needs, value in groups:
            if value is not False:
                relevant += [c for c in needs if c not in relevant]
    unasked = [c for c in relevant if c not in known]
    if unasked:
        return Verdict(None, ask=unasked[0])
    return Verdict(PROBABLY, tuple(c for c in relevant if known.get(c) is None))


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
