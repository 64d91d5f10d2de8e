"""CSV a spreadsheet cannot run: a cell that starts like a formula is written as text."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

# What makes a spreadsheet read a cell as a formula (or hide what follows).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number (a phone number, -3, 1.5) runs nothing and is left as it is.
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def safe_cell(value: object) -> object:
    """The value, with a leading ' when a spreadsheet would run it as a formula."""
    risky = isinstance(value, str) and value.startswith(FORMULA_STARTS)
    return "'" + str(value) if risky and not PLAIN_NUMBER.match(str(value)) else value


def write_csv(
    out: TextIO,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, object]],
    header: bool = True,
) -> None:
    """A header (unless a later batch of a stream) and the rows, every cell made safe."""
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({name: safe_cell(value) for name, value in row.items()})
