"""`-o dot`'s quoting (backupshare/output/graph.py), pure: whatever text the service sends, a
label is one DOT string that ends where we end it, with no control character inside."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from backupshare.models import Backup, Share
from backupshare.output.graph import Graph, quoted

OWN = "c13f5220dc1949b0b741ea81a7cd5554"
P1 = "722513ed0a324dadaabe5b2d0fe848c9"
BACKUP = "066b1e37-9305-4057-97e5-2e99b21fc71d"


def string_end(text: str) -> int:
    """Where the DOT quoted string that opens `text` ends (the index of its closing quote)."""
    assert text[0] == '"'
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    raise AssertionError(f"unterminated: {text!r}")


@given(st.text(max_size=300))
def test_a_quoted_label_is_one_string_whatever_it_holds(text: str) -> None:
    label = quoted(text)
    assert string_end(label) == len(label) - 1
    assert label.isprintable()


@given(st.text(max_size=100))
def test_a_backups_name_never_adds_a_statement(name: str) -> None:
    graph = Graph(OWN)
    backup = Backup(BACKUP, name, "available", 10, None, None, None, None)
    share = Share(BACKUP, BACKUP, P1, None, None, None, backup, {}, status="pending")
    graph.add(share, findings=["not-allowed"])
    lines = graph.text().split("\n")[:-1]
    assert lines[0] == "digraph sharing {" and lines[-1] == "}"
    for line in lines[4:-1]:  # each statement: an id, then attributes in one [ … ];
        assert line.startswith('  "') and line.endswith("];")
        first = string_end(line[2:]) + 2
        rest = line[first + 1 :]
        if rest.startswith(" -> "):
            rest = rest[4 + string_end(rest[4:]) + 1 :]
        assert rest.startswith(" [")
