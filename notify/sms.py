"""SMS cost: GSM-7 / UCS-2 encoding, segment counting and safe character substitutions."""

from __future__ import annotations

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7 = frozenset(GSM7_BASIC + GSM7_EXTENSION)

# Characters that look the same to a reader but would force the whole text into UCS-2.
SUBSTITUTIONS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u2026": "...",
    "\u2022": "-",
    "\u00b7": "-",
    "\t": " ",
}
# Each a per-character loop in C (str.translate, set.issuperset, str.count, the codec), not in
# Python: a turn's replies cost about a tenth (bench/README Speed).
_SAFE = str.maketrans(SUBSTITUTIONS)


def make_sms_safe(text: str) -> str:
    """Replace look-alike characters that needlessly force UCS-2."""
    return text.translate(_SAFE)


def is_gsm7(text: str) -> bool:
    """True when every character has a GSM-7 encoding."""
    return _GSM7.issuperset(text)


def septets(text: str) -> int:
    """GSM-7 length: extension characters take two septets."""
    return len(text) + sum(text.count(char) for char in GSM7_EXTENSION)


def ucs2_units(text: str) -> int:
    """UCS-2/UTF-16 length: characters outside the BMP take two units."""
    # A lone surrogate (text that came in broken) is one unit, as in UTF-16.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def segments(text: str) -> int:
    """How many SMS segments this text costs (160/153 GSM-7, 70/67 UCS-2)."""
    if not text:
        return 1
    if is_gsm7(text):
        size, single, multi = septets(text), 160, 153
    else:
        size, single, multi = ucs2_units(text), 70, 67
    if size <= single:
        return 1
    return -(-size // multi)
