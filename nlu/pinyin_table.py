"""Toneless pinyin exactly as pypinyin's lazy_pinyin gives it, from a compact table of its data.

Imported, pypinyin holds ~55 MB: every reading of 41,923 characters and of 47,111 phrases, toned.
Its default style reads far less: each character's first reading without tones, and the phrases
(it cuts Chinese by forward maximum matching over all of them, so every phrase is kept), with a
reading only for the 3,437 not read as their characters alone. pypinyin itself writes that table
once, in a subprocess (`python -m nlu.pinyin_table [PATH]`), to a file beside the venv named by
its version; this process reads it (~8 MB) and never imports pypinyin, unless the table cannot be
written: then it does.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import subprocess
import sys
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

Errors = Literal["default", "ignore"]
# The layout of the table's file: a change to it must change FORMAT (part of the file's name).
FORMAT = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True, repr=False)
class Table:
    """What lazy_pinyin reads in its default style, taken from pypinyin's own dictionaries."""

    han: re.Pattern[str]  # a run of the characters pypinyin reads (its RE_HANS), as a group
    base: int  # the code point of chars[0]
    chars: str  # from base on, per code point: chr(1 + its syllable's index), or chr(0): none
    syllables: tuple[str, ...]
    phrases: dict[str, tuple[str, ...] | None]  # None: read as its characters are alone
    keys: list[str]  # the phrases sorted, to tell whether a text is the start of one
    longest: int  # the longest phrase's length

    def lazy_pinyin(self, text: str, errors: Errors = "default") -> list[str]:
        """What pypinyin.lazy_pinyin(text, errors=errors) returns."""
        keep = errors == "default"
        out: list[str] = []
        for index, part in enumerate(self.han.split(text)):
            if index % 2:
                self._read_run(part, out, keep)
            elif part and keep:
                out.append(part)
        return out

    def _read_run(self, run: str, out: list[str], keep: bool) -> None:
        """Read Chinese characters cut as pypinyin.seg.mmseg cuts them (its no_non_phrases)."""
        start = 0
        while start < len(run):
            for stop in range(min(len(run), start + self.longest), start, -1):
                word = run[start:stop]
                if word in self.phrases:
                    reading = self.phrases[word]
                    if reading is None:
                        for char in word:
                            self._read_char(char, out, keep)
                    else:
                        out.extend(reading)
                    start = stop
                    break
            else:
                rest = run[start:]
                at = bisect_left(self.keys, rest)
                if at < len(self.keys) and self.keys[at].startswith(rest):
                    # The rest starts a phrase and holds none: mmseg reads each character alone.
                    for char in rest:
                        self._read_char(char, out, keep)
                    return
                self._read_char(run[start], out, keep)
                start += 1

    def _read_char(self, char: str, out: list[str], keep: bool) -> None:
        offset = ord(char) - self.base
        code = ord(self.chars[offset]) if 0 <= offset < len(self.chars) else 0
        if code:
            out.append(self.syllables[code - 1])
        elif keep:
            out.append(char)


def table_contents() -> dict[str, Any]:
    """The table as its file holds it, read from pypinyin (imported here: ~55 MB)."""
    from pypinyin import lazy_pinyin
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS

    shared: dict[str, str] = {}
    readings: dict[int, str] = {}
    for point in sorted(PINYIN_DICT):
        reading = lazy_pinyin(chr(point), errors="ignore")
        if len(reading) > 1:
            raise ValueError(f"{chr(point)} reads as {reading}")
        if reading and RE_HANS.match(chr(point)):
            readings[point] = shared.setdefault(reading[0], reading[0])
    phrases: dict[str, tuple[str, ...] | None] = {}
    for phrase in sorted(PHRASES_DICT):
        reading = [shared.setdefault(syllable, syllable) for syllable in lazy_pinyin(phrase)]
        alone = [readings.get(ord(char)) for char in phrase]
        phrases[phrase] = None if reading == alone else tuple(reading)
    syllables = sorted(shared.values())
    index = {syllable: number + 1 for number, syllable in enumerate(syllables)}
    base = min(readings)
    chars = "".join(
        chr(index.get(readings.get(point, ""), 0)) for point in range(base, max(readings) + 1)
    )
    han = RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$")
    if not (han.startswith("[") and han.endswith("]")):
        raise ValueError(f"pypinyin's RE_HANS changed its form: {RE_HANS.pattern}")
    contents = {"format": FORMAT, "han": han, "base": base, "chars": chars}
    return contents | {"syllables": tuple(syllables), "phrases": phrases}


def write_table(path: Path) -> None:
    """Write the table, read from pypinyin, to path: whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = marshal.dumps(table_contents())
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        scratch.write_bytes(data)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def read_table(path: Path) -> Table:
    """The table in path; ValueError if it is not one of this FORMAT."""
    try:
        contents = marshal.loads(path.read_bytes())
    except (EOFError, TypeError) as error:
        raise ValueError(f"{path}: {error}") from error
    if not isinstance(contents, dict) or contents.get("format") != FORMAT:
        raise ValueError(f"{path}: not a pinyin table of format {FORMAT}")
    phrases: dict[str, tuple[str, ...] | None] = contents["phrases"]
    return Table(
        han=re.compile(f"({contents['han']}+)"),
        base=contents["base"],
        chars=contents["chars"],
        syllables=contents["syllables"],
        phrases=phrases,
        keys=sorted(phrases),
        longest=max(map(len, phrases), default=1),
    )


def table_path() -> Path:
    """The table's file for the installed pypinyin, beside this venv (read without importing it)."""
    spec = find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("pypinyin is not installed")
    found = re.search(r"__version__ = '([^']+)'", Path(spec.origin).read_text(encoding="utf-8"))
    version = found.group(1) if found else "unknown"
    return Path(sys.prefix) / "share" / "jobline" / f"pinyin-{version}-{FORMAT}.marshal"


def build_table(path: Path) -> None:
    """Write the table to path from a subprocess (pypinyin's memory goes when it exits)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYPINYIN_")}
    command = [sys.executable, "-m", __name__, str(path)]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)


@cache
def _reader() -> Callable[[str, Errors], list[str]]:
    """The table's lazy_pinyin, building the table first if need be; else pypinyin's own."""
    path = table_path()
    try:
        return read_table(path).lazy_pinyin
    except (OSError, ValueError):
        pass
    try:
        build_table(path)
        return read_table(path).lazy_pinyin
    except (OSError, ValueError, subprocess.SubprocessError) as error:
        log.warning("no pinyin table at %s (%s): importing pypinyin (~55 MB)", path, error)
    from pypinyin import lazy_pinyin as pypinyin_lazy_pinyin

    def read(text: str, errors: Errors) -> list[str]:
        return list(pypinyin_lazy_pinyin(text, errors=errors))

    return read


def lazy_pinyin(text: str, errors: Errors = "default") -> list[str]:
    """pypinyin.lazy_pinyin(text, errors=errors): "银行行不行" -> ["yin", "hang", "xing", ...]."""
    return _reader()(text, errors)


if __name__ == "__main__":
    write_table(Path(sys.argv[1]) if len(sys.argv) > 1 else table_path())
