"""Text from the service made safe for a terminal and for CSV: escaped controls, masked URL
passwords, spreadsheet-safe cells. Pure: no rich, no terminal."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

# C0 and C1 controls, DEL, and the bidirectional overrides that can make text read backwards.
UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Free text the service writes (names, descriptions, error messages), or a file does (a
# sharings file's entry label, a saved plan's reason), is neutralised by default when a
# spreadsheet would run it (`=`, `@`, tab, CR); `+`/`-` (a negative number, an id) and the
# other columns only with --csv-safe, so ordinary data stays as it was.
CSV_FREE_TEXT = frozenset({"name", "backup_name", "description", "error", "entry", "reason"})
CSV_FREE_TEXT_START = ("=", "@", "\t", "\r")
# What is shown of one server string (a message, a name, a table cell): enough for any real
# one; a longer one is cut, saying so. CUT_MARGIN covers a URL's scheme and user info, so
# masking before the cut sees every URL that starts inside what is shown.
SHOWN_MAX = 1000
CUT_MARGIN = 600


def printable(text: str, limit: int | None = None) -> str:
    """Text from the service made safe for a terminal: every control character shown escaped
    (`\\x1b`, `\\n`, …), so no escape sequence, line break or clipboard write gets through, any
    password inside a URL masked, and no more than `limit` (SHOWN_MAX) characters of it shown:
    a megabyte-long message or name says it was cut instead of flooding the screen."""
    limit = SHOWN_MAX if limit is None else limit
    if len(text) <= limit:
        return escaped(text)
    # Masked before the cut, so a URL whose password straddles the cut is masked, not halved.
    return cut_note(escaped(text[: limit + CUT_MARGIN])[:limit], len(text))


def cut_note(head: str, length: int) -> str:
    return f"{head}… [cut: {length:,} characters in all]"


def escaped(text: str) -> str:
    """`printable` without the length bound: for CSV, whose values stay whole (linear time)."""
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


def csv_line(values: Iterable[Any], *, safe: bool = False, header: Sequence[str] = ()) -> str:
    """One RFC 4180 record (CRLF, quotes doubled) without the csv module's writer setup.
    CSV is read line by line (and shown on terminals), so control characters are escaped like
    in tables. A free-text column (by `header`) starting with `=`, `@`, tab or CR is prefixed
    with `'`, as `safe` (--csv-safe) does for every column and `+` and `-` too."""
    cells = []
    for index, value in enumerate(values):
        text = "" if value is None else str(value)
        free_text = index < len(header) and header[index] in CSV_FREE_TEXT
        if text.startswith(CSV_FORMULA_START if safe else ()) or (
            free_text and text.startswith(CSV_FREE_TEXT_START)
        ):
            text = "'" + text
        text = escaped(text)
        if any(c in text for c in ',"') or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return ",".join(cells) + "\r\n"
