"""Bad input a person can fix: English words for the CLI, a key and values for other languages."""

from __future__ import annotations


class Problem(ValueError):
    """What is wrong, in English (str), and as a words key with its values for translation.

    A value named `field` is a post's column name (pay_yuan_month); pages show its human name.
    """

    def __init__(self, text: str, key: str, /, **values: object) -> None:
        super().__init__(text)
        self.key = key
        self.values = values
