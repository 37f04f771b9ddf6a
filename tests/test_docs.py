"""docs/ keeps up with the code: what the code reads, raises and accepts is found by
introspection and must be documented where docs/README.md says it is; every link resolves; the
code cites only documents that are in the repository."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backupshare import errors

from .helpers import ROOT

DOCS = ROOT / "docs"
ENV_NAME_RE = re.compile(r"_?(BACKUPSHARE|HUAWEICLOUD_SDK)_[A-Z0-9_]*")
LINK_RE = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CITED_MD_RE = re.compile(r"[\w./-]*\w\.md\b")


def doc(name: str) -> str:
    return (DOCS / name).read_text()


def sections(text: str) -> dict[str, str]:
    """The text under each `## ` heading (its `###` subsections included), by heading."""
    parts = re.split(r"(?m)^## (.+)$", text)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def mentions(text: str, word: str) -> bool:
    """`word` (an option, a metavar) stands alone somewhere in `text`."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# -- environment variables -----------------------------------------------------------------------
def environment_names() -> set[str]:
    """Every string constant in the package that is (or starts) one of our variable names."""
    names = set()
    for path in (ROOT / "backupshare").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and ENV_NAME_RE.fullmatch(value):
                names.add(value)
    return names


def test_the_scan_finds_the_variables_it_should() -> None:
    # not vacuous: the scan sees variables the code is known to read
    assert {"BACKUPSHARE_TOKEN", "HUAWEICLOUD_SDK_AK", "BACKUPSHARE_EMULATOR_"} <= (
        environment_names()
    )


@pytest.mark.parametrize("name", sorted(environment_names()))
def test_every_environment_variable_is_in_configuration_md(name: str) -> None:
    assert mentions(doc("configuration.md"), name), f"docs/configuration.md does not name {name}"


def test_every_emulator_option_is_in_emulator_md() -> None:
    from backupshare.emulator.__main__ import parser

    options = sections(doc("emulator.md"))["Options"]
    documented = [
        opt
        for action in parser()._actions
        if action.dest != "help"
        for opt in action.option_strings
        if not mentions(options, opt)
    ]
    assert documented == [], "missing from docs/emulator.md, Options"


# -- exit codes ------------------------------------------------------------------------------------
def error_classes() -> list[type[errors.BackupshareError]]:
    return [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.BackupshareError)
    ]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__name__)
def test_every_exit_code_and_error_type_is_in_exit_codes_md(cls: type[Any]) -> None:
    table = [line for line in doc("exit-codes.md").splitlines() if line.startswith("| ")]
    [row] = [line for line in table if line.startswith(f"| {cls.exit_code} |")]
    assert f"`{cls.kind}`" in row, f"the row of exit code {cls.exit_code} lacks `{cls.kind}`"


# -- output formats --------------------------------------------------------------------------------
def test_every_output_format_is_in_output_md() -> None:
    from backupshare.output import FORMATS, GRAPH

    table = sections(doc("output.md"))["Formats"]
    assert [name for name in [*FORMATS, GRAPH.name] if f"| `{name}`" not in table] == []


# -- commands and options --------------------------------------------------------------------------
def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the app and its path (`("config", "init")`), the root first."""
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from walk(command.get_command(None, name), (*path, name))


def app_commands() -> list[tuple[tuple[str, ...], Any]]:
    from typer.main import get_command

    from backupshare.cli.app import app

    return list(walk(get_command(app)))


def test_every_command_option_and_argument_is_in_commands_md() -> None:
    by_heading = sections(doc("commands.md"))
    commands = app_commands()
    root_path, root = commands[0]
    global_text = by_heading["Global options"] + by_heading["--version"]
    global_options = {opt for p in root.params for opt in p.opts + p.secondary_opts}
    missing = []
    for path, command in commands:
        if path:
            section = by_heading.get(path[0])  # `config init` is documented under `config`
            if section is None:
                missing.append(f"a section `## {path[0]}`")
                continue
        else:
            section = global_text
        for word in (*path[1:], *[w for p in command.params for w in names(p)]):
            if word in global_options and path:
                continue  # the global options are checked once, as the root's
            if not mentions(section, word):
                missing.append(f"{' '.join(path) or 'backupshare'}: {word}")
    assert missing == [], "missing from docs/commands.md"
    assert len(commands) > 10 and root_path == ()  # not vacuous: the app was walked


def names(param: Any) -> list[str]:
    if param.param_type_name == "argument":
        return [param.metavar or param.name.upper()]
    return [*param.opts, *param.secondary_opts]


# -- links and citations ---------------------------------------------------------------------------
def link_targets() -> Iterator[tuple[Path, str]]:
    for source in [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]:
        for target in LINK_RE.findall(source.read_text()):
            if not re.match(r"[a-z]+:", target):
                yield source, target


def test_every_link_of_the_docs_resolves_with_its_anchor() -> None:
    broken = []
    for source, target in link_targets():
        file, _, anchor = target.partition("#")
        path = (source.parent / file).resolve() if file else source
        if not path.exists():
            broken.append(f"{source.name}: {target}")
        elif anchor:
            headings = re.findall(r"(?m)^#+ (.+)$", path.read_text())
            if anchor not in {slug(h) for h in headings}:
                broken.append(f"{source.name}: {target}")
    assert broken == []


def test_the_readme_links_the_docs() -> None:
    assert (ROOT / "README.md", "docs/README.md") in set(link_targets())


def test_the_code_cites_only_documents_in_the_repository() -> None:
    missing = []
    for path in [*(ROOT / "backupshare").rglob("*.py"), *(ROOT / "tests").rglob("*.py")]:
        for cited in CITED_MD_RE.findall(path.read_text()):
            if not any((base / cited).exists() for base in (ROOT, DOCS, path.parent)):
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert missing == []


def test_slugs_are_githubs() -> None:
    assert slug("Password (IAM token)") == "password-iam-token"
    assert slug("`--version`") == "--version"
    assert slug("doctor, config validate") == "doctor-config-validate"
