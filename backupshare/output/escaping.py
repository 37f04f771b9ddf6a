"""Text from the service made safe for a terminal and for CSV: escaped controls, masked URL
passwords, spreadsheet-safe cells. Pure: no rich, no terminal."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# C0 and C1 controls, DEL, and the bidirectional overrides that can make text read backwards.
UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    """Text from the service made safe for a terminal: every control character shown escaped
    (`\\x1b`, `\\n`, …), so no escape sequence, line break or clipboard write gets through, and
    any password inside a URL masked."""
    from ..config import mask_url

    return mask_url(UNPRINTABLE_RE.sub(_escape_char, text))


def _escape_char(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def csv_line(values: Iterable[Any], *, safe: bool = False) -> str:
    """One RFC 4180 record (CRLF, quotes doubled) without the csv module's writer setup.
    CSV is read line by line (and shown on terminals), so control characters are escaped like
    in tables; `safe` quotes what a spreadsheet would run as a formula (`=`, `+`, `-`, `@`)."""
    cells = []
    for value in values:
        text = "" if value is None else str(value)
        if safe and text.startswith(CSV_FORMULA_START):
            text = "'" + text
        text = printable(text)
        if any(c in text for c in ',"') or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return ",".join(cells) + "\r\n"
