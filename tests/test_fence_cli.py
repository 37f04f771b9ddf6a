"""The CLI is the library's first user (#20): its commands parse, call a `Client`, render. So
cli/ takes from verbs/ only the typed requests it fills, the plans and reports it renders and a
few pure helpers about them — never a function that talks to a service — and never connects
to a service itself."""

from __future__ import annotations

import ast

from .helpers import ROOT

CLI = ROOT / "backupshare" / "cli"

# what cli/ may import from verbs/: requests, plans, reports, the wait's tick, the Ctrl-C latch,
# and pure judgements about a record (nothing here sends a request)
ALLOWED_FROM_VERBS = {
    "verbs.apply": {"check_removals", "load_plan", "report_record"},
    "verbs.audit": {"AuditRequest", "Audited", "Finding", "findings_error"},
    "verbs.batch": {"Interrupt"},
    "verbs.cancel": {"CancelRequest", "CancelPlan", "made_to_us"},
    "verbs.plan": {"Plan", "PlanRow"},
    "verbs.project": {"ProjectQuery"},
    "verbs.receive": {"AnswerRequest", "VAULT_AUTO"},
    "verbs.share": {"BackupChoice", "ShareRequest"},
    "verbs.wait": {"WaitTick"},
}
# the service classes say what a service can do (read before anything is sent); connecting,
# and so every request, is the Client's
FORBIDDEN = {"registry": {"connect"}}


def imports_of(source: str) -> list[tuple[str, str]]:
    """(module under backupshare/, name) for each `from ..x import name` of a cli/ module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 2:
            module = node.module or ""
            found += [(module, alias.name) for alias in node.names]
    return found


def test_cli_takes_from_verbs_only_requests_reports_and_pure_helpers() -> None:
    trespass = []
    seen = set()
    for path in sorted(CLI.glob("*.py")):
        for module, name in imports_of(path.read_text()):
            if module == "verbs" or module.startswith("verbs."):
                seen.add(module)
                if name not in ALLOWED_FROM_VERBS.get(module, set()):
                    trespass.append(f"cli/{path.name}: from ..{module} import {name}")
            if name in FORBIDDEN.get(module, set()):
                trespass.append(f"cli/{path.name}: from ..{module} import {name}")
    assert trespass == []
    assert len(seen) >= 5  # not vacuous: the requests and reports are imported


def test_the_fence_sees_a_verb_call() -> None:
    sneaky = "def f():\n    from ..verbs.receive import answer_all\n"
    assert imports_of(sneaky) == [("verbs.receive", "answer_all")]
