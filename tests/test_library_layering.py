"""The library does not stand on the CLI (review of #20): Client's checks are backupshare/checks.py,
which cli/arguments.py re-exports for the commands; nothing outside cli/ imports backupshare.cli
(but the entry point, __main__), and a library call loads neither cli/ nor output/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .test_fences import PACKAGE, imported_modules, module_name

# The only modules outside cli/ that may import it: `python -m backupshare` runs the CLI.
ENTRY_POINTS = {"backupshare.__main__"}


def test_nothing_outside_the_cli_imports_it() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    cli = {m for m in modules if m == "backupshare.cli" or m.startswith("backupshare.cli.")}
    outside = [p for p in paths if module_name(p) not in cli | ENTRY_POINTS]
    assert len(outside) > 50 and cli  # not vacuous
    trespass = [
        f"{module_name(path)} imports {', '.join(sorted(imported_modules(path, modules) & cli))}"
        for path in outside
        if imported_modules(path, modules) & cli
    ]
    assert trespass == []
    checks = PACKAGE / "checks.py"
    assert imported_modules(checks, modules) and not {"typer", "sys"} & {
        name.split(".")[0] for name in _imports(checks)
    }


def _imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


LIBRARY_CALLS = """
import json, sys
from backupshare.testing import emulator
with emulator(service="cbr") as emu:
    emu.client.share(emu.backups[0], [emu.partner_project_id])
    emu.partner.accept(emu.backups[0])
    emu.partner.reject_all_pending(dry_run=True)
    emu.client.cancel(backup_id=emu.backups[0], dry_run=True)
fenced = ("backupshare.cli", "backupshare.output", "typer")
loaded = [m for m in sys.modules if m in fenced or m.startswith(tuple(f + "." for f in fenced))]
print(json.dumps(sorted(loaded)))
"""


def test_library_calls_load_neither_the_cli_nor_its_output(isolated: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIBRARY_CALLS], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
