"""`backupshare --help` lists every command, in a section of its own kind (audit once was in
none and did not show at all)."""

from __future__ import annotations

import re
from collections.abc import Callable

from backupshare.cli.catalog import COMMANDS

from .helpers import CliResult


def test_the_root_help_lists_every_command_once(cli: Callable[..., CliResult]) -> None:
    result = cli("--help")
    assert result.code == 0
    listed = re.findall(r"^\s{2}([a-z][a-z-]+)\s{2,}\S", result.out, flags=re.M)
    assert sorted(listed) == sorted(COMMANDS)


def test_audit_plan_and_apply_are_under_sharing_policy(cli: Callable[..., CliResult]) -> None:
    out = cli("--help").out
    policy = out[out.index("Sharing policy") : out.index("Setup and tools")]
    assert [
        name for name in ("audit", "plan", "apply") if re.search(rf"^\s+{name}\s", policy, re.M)
    ] == [
        "audit",
        "plan",
        "apply",
    ]
