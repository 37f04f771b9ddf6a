"""benchmarks/README.md's generated blocks: each script rewrites the lines between its own
`<!-- MARKER -->` and `<!-- /MARKER -->`, leaving the prose around them as written."""

from __future__ import annotations

import re


def set_section(text: str, marker: str, lines: list[str], title: str) -> str:
    """`text` with MARKER's block holding `lines`; where there is none yet, a `## title`
    section holding it is appended."""
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    if start not in text:
        text += f"\n## {title}\n\n{start}\n{end}\n"
    block = "\n".join([start, *lines, end])
    # a function as the replacement: a table's text is never read as a template (`\1`, `\g`)
    return re.sub(re.escape(start) + ".*" + re.escape(end), lambda m: block, text, flags=re.S)
