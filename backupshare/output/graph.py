"""`-o dot`: the sharing graph in Graphviz's DOT language — this project, its backups (named),
the projects they are shared with, edges labelled with the member status, audit findings in a
warning style. Pure text; every label and id is a quoted DOT string with `"` and `\\` escaped and
control characters shown escaped, so text from the service can never end a string or add a
statement (https://graphviz.org/doc/info/lang.html: a quoted string may hold any character but
an unescaped `"`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..models import Share
from .escaping import printable

MAX_LABEL = 200  # characters of a backup name drawn; the rest is cut, saying so
WARNING = 'color="red", fontcolor="red", penwidth=2, style=bold'


def quoted(text: str) -> str:
    """A DOT quoted string: `\\` and `"` escaped, control characters and newlines as escapes
    (printable), so the string ends where we end it."""
    shown = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in printable(text)  # and line or paragraph separators, which DOT would keep
    )
    if len(shown) > MAX_LABEL:
        shown = shown[:MAX_LABEL] + "…"
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Graph:
    """The graph, built edge by edge and written once (DOT needs every statement inside one
    `digraph { }`). Nodes are declared once each."""

    def __init__(self, own_project: str) -> None:
        self.own = own_project
        self.lines: list[str] = []
        self._nodes: set[str] = set()

    def add(self, share: Share, *, incoming: bool = False, findings: Iterable[str] = ()) -> None:
        kinds = list(findings)
        backup_node = f"backup:{share.backup_id}"
        name = share.backup.name if share.backup and share.backup.name else None
        label = f"{name}\\n{share.backup_id}" if name else share.backup_id
        if incoming:
            owner = share.from_project_id or "unknown project"
            self._node(f"project:{owner}", f"project {owner}", "box", warn=bool(kinds))
            self._node(backup_node, label, "cylinder", raw_label=name is not None)
            self._edge(f"project:{owner}", backup_node, "owns", False)
            self._edge(backup_node, f"project:{self.own}", self._status(share, kinds), bool(kinds))
            return
        self._node(backup_node, label, "cylinder", raw_label=name is not None)
        self._edge(f"project:{self.own}", backup_node, "owns", False)
        target = f"project:{share.to_project_id}"
        self._node(target, f"project {share.to_project_id}", "box", warn="not-allowed" in kinds)
        self._edge(backup_node, target, self._status(share, kinds), bool(kinds))

    def text(self) -> str:
        own, own_label = quoted(f"project:{self.own}"), quoted(f"project {self.own} (this project)")
        head = [
            "digraph sharing {",
            "  rankdir=LR;",
            '  node [fontname="Helvetica"];',
            f'  {own} [label={own_label}, shape=box, style=filled, fillcolor="lightgrey"];',
        ]
        return "\n".join([*head, *self.lines, "}"]) + "\n"

    @staticmethod
    def _status(share: Share, kinds: list[str]) -> str:
        status = share.status or "shared"
        return f"{status} ({', '.join(kinds)})" if kinds else status

    def _node(
        self, node: str, label: str, shape: str, *, warn: bool = False, raw_label: bool = False
    ) -> None:
        if node in self._nodes or node == f"project:{self.own}":
            return
        self._nodes.add(node)
        style = f", {WARNING}" if warn else ""
        shown = _label(label) if raw_label else quoted(label)
        self.lines.append(f"  {quoted(node)} [label={shown}, shape={shape}{style}];")

    def _edge(self, tail: str, head: str, label: str, warn: bool) -> None:
        key = f"{tail}->{head}"
        if label == "owns":  # one ownership edge a backup
            if key in self._nodes:
                return
            self._nodes.add(key)
            self.lines.append(f'  {quoted(tail)} -> {quoted(head)} [style=dashed, color="grey"];')
            return
        style = f", {WARNING}" if warn else ""
        self.lines.append(f"  {quoted(tail)} -> {quoted(head)} [label={quoted(label)}{style}];")


def _label(name_and_id: str) -> str:
    """A backup's two-line label: its name (server text, escaped) and its id."""
    name, _, backup_id = name_and_id.rpartition("\\n")
    return quoted(name)[:-1] + "\\n" + backup_id + '"'
