"""Plain tables and how a table fits a terminal: which columns show, how wide, and the
one-record-a-block layout when not even the ids fit. Pure text arithmetic: no rich, no
terminal (output/__init__.py measures the terminal and draws what is decided here).
"""

from __future__ import annotations

import textwrap

# How a column behaves when the terminal is narrow. Rank 0 always shows (ids whole, outcomes,
# errors); the others give way, highest rank first. Unknown headers count as text.
COLUMN_ROLES: dict[str, tuple[str, int]] = {
    "SHARE ID": ("id", 0),
    "TO PROJECT": ("id", 0),
    "FROM PROJECT": ("id", 0),
    "PROJECT": ("id", 0),
    "RESULT": ("key", 0),
    "ERROR": ("text", 0),
    "STATUS": ("key", 1),  # pending or accepted, available or not: read before the backup id
    "BACKUP ID": ("id", 2),
    "BACKUP NAME": ("lesser", 3),
    "CREATED (UTC)": ("lesser", 4),
    "SIZE": ("lesser", 5),
}
TEXT_MIN_WIDTH = 16
LONGEST_UNBROKEN = 40  # ids (36) and most words stay whole inside a wrapped sentence
GAP = 2  # spaces between columns


DEFAULT_ROLE = ("text", 1)
# Columns that only say something when a row has trouble (an error, a blocked row's reason):
# left out while every cell is empty, so the ids fit 80 columns in the usual case.
WHEN_ANY = frozenset({"ERROR", "REASON"})


def natural_width(headers: list[str], rows: list[list[str]], index: int) -> int:
    return max(len(headers[index]), *(len(row[index]) for row in rows))


def text_min_width(headers: list[str], rows: list[list[str]], index: int) -> int:
    """The narrowest a wrapping column may be: wide enough for its longest word (an id or a
    path inside a sentence is never broken), and for TEXT_MIN_WIDTH."""
    longest = max((len(word) for row in rows for word in row[index].split()), default=0)
    longest = min(longest, LONGEST_UNBROKEN)  # a longer word (a path) may fold
    return min(natural_width(headers, rows, index), max(TEXT_MIN_WIDTH, longest))


def fit_columns(
    headers: list[str], rows: list[list[str]], width: int, roles: dict[str, tuple[str, int]]
) -> dict[int, int] | None:
    """Which columns to show in `width`, and how wide: every rank-0 column (an empty ERROR
    or REASON column excepted), then the others by rank while they fit; the room left widens the
    wrapping columns. None when not even rank 0 fits."""

    def column_role(header: str) -> tuple[str, int]:
        return roles.get(header, DEFAULT_ROLE)

    def need(index: int) -> int:
        kind, _ = column_role(headers[index])
        if kind == "text":
            return text_min_width(headers, rows, index)
        return natural_width(headers, rows, index)

    def empty(index: int) -> bool:
        return all(row[index] in ("", "-") for row in rows)

    essential = [
        i
        for i, h in enumerate(headers)
        if column_role(h)[1] == 0 and not (empty(i) and h in WHEN_ANY)
    ]
    used = sum(need(i) for i in essential) + GAP * (len(essential) - 1)
    if used > width:
        return None
    shown = set(essential)
    optional = sorted(
        (i for i in range(len(headers)) if i not in shown), key=lambda i: column_role(headers[i])[1]
    )
    for index in optional:
        if empty(index) and headers[index] in WHEN_ANY:
            continue
        cost = need(index) + GAP
        if used + cost > width:
            break  # in rank order: a lesser column never shows where a more important one can't
        shown.add(index)
        used += cost
    widths = {index: need(index) for index in sorted(shown)}
    for index in widths:  # left to right, wrapping columns take what they can use of the rest
        if column_role(headers[index])[0] == "text":
            extra = min(width - used, natural_width(headers, rows, index) - widths[index])
            widths[index] += extra
            used += extra
    return widths


def record_blocks(headers: list[str], rows: list[list[str]], width: int) -> str:
    """Each record as `KEY  value` lines, records apart by a blank line: for a terminal too
    narrow for a row, where a table would crop ids. Long text wraps under its value."""
    key_width = max(len(h) for h in headers)
    room = max(width - key_width - GAP, LONGEST_UNBROKEN)
    indent = " " * (key_width + GAP)
    blocks = []
    for row in rows:
        lines = []
        for header, cell in zip(headers, row, strict=True):
            if not cell:
                continue
            wrapped = textwrap.wrap(cell, room, break_on_hyphens=False) or [cell]
            lines.append(f"{header:<{key_width}}  {wrapped[0]}")
            lines.extend(indent + more for more in wrapped[1:])
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def plain_table(headers: list[str], rows: list[list[str]]) -> str:
    """Aligned columns without colour, truncation or wrapping: for pipes, grep and awk."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"
