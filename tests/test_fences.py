"""The fences between modules, exactly: ruff's banned-api rule can only exempt a whole file from
every ban (output/ may import rich, so ruff would let it import requests too); this checks
each heavy library against the modules allowed to import it."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "backupshare"
# library: the modules (paths under backupshare/, a trailing / for a whole package) that may
# import it. HTTP belongs to the wire, rich to the terminal, yaml to config files and -o yaml.
FENCES = {
    "requests": ("client.py", "auth.py", "emulator/"),
    "urllib3": ("client.py", "auth.py", "emulator/"),
    "rich": ("output/",),
    "yaml": ("config.py", "output/"),
}


def imported_libraries(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_each_heavy_library_is_imported_only_inside_its_fence() -> None:
    trespass = []
    seen = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        for library in imported_libraries(path) & set(FENCES):
            seen.add(library)
            if not any(module == m or module.startswith(m) for m in FENCES[library]):
                trespass.append(f"{module} imports {library}")
    assert trespass == []
    assert seen == set(FENCES)  # not vacuous: each library is imported somewhere


def test_the_behaviour_layer_imports_neither_typer_nor_sys() -> None:
    # verbs/ decide and act; argv and the terminal are the CLI's (cli/arguments.py, and the
    # Invocation hands in stdin): a verb that read sys.stdin could not be a library call
    verbs = sorted((PACKAGE / "verbs").rglob("*.py"))
    assert verbs  # not vacuous
    found = [
        f"{path.relative_to(PACKAGE).as_posix()} imports {library}"
        for path in verbs
        for library in sorted(imported_libraries(path) & {"typer", "click", "sys"})
    ]
    assert found == []
