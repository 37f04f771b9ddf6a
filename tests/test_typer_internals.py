"""The fast path for option values (backupshare/cli/typer_internals.py): on the pinned Typer every
parameter of every command takes it, it answers exactly what Typer's own path answers, and when the
internals it relies on move, Typer's own path runs and the commands answer as before."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from backupshare.cli import typer_internals
from backupshare.cli.app import COMMANDS, app
from backupshare.cli.typer_internals import (
    CHECKED_TYPER,
    UNSURE,
    FastCoercion,
    PlainType,
    click_command,
    fast_coercion,
)
from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, P1, ROOT
from .test_imports import imported


# -- the whole app, walked ----------------------------------------------------------------------
def walk(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    """(context, parameter) for `command` and every command under it, --help flags included."""
    for param in command.get_params(ctx):
        yield ctx, param
    list_commands = getattr(command, "list_commands", None)
    for name in list_commands(ctx) if list_commands else []:
        sub = command.get_command(ctx, name)  # builds the lazy ones, as a real run does
        yield from walk(sub, sub.context_class(sub, ctx, name, **sub.context_settings))


def every_parameter() -> list[tuple[Any, Any]]:
    root = click_command(app)
    ctx = root.context_class(root, None, "backupshare", **root.context_settings)
    return list(walk(root, ctx))


def test_the_walk_reaches_every_command() -> None:
    paths = {ctx.command_path for ctx, _ in every_parameter()}
    from backupshare.cli.tools import config_app

    config = {f"backupshare config {c.name}" for c in config_app.registered_commands}
    # the emulator passes its arguments through untouched: it has no parameter to convert
    commands = {f"backupshare {name}" for name in COMMANDS if name != "emulator"}
    assert paths == {"backupshare"} | commands | config


def test_every_parameter_of_every_command_takes_the_fast_path() -> None:
    assert typer.__version__.startswith(CHECKED_TYPER), "a new Typer: re-check typer_internals"
    slow = [f"{ctx.command_path} {p.name}" for ctx, p in every_parameter() if not fast_coercion(p)]
    assert slow == []


def test_every_default_is_read_by_the_fast_path() -> None:
    # a default goes through the converter on every run that does not give the option
    unread = [
        f"{ctx.command_path} {param.name}={default!r}"
        for ctx, param in every_parameter()
        if (default := param.get_default(ctx)) is not None
        and (fast := fast_coercion(param)) is not None
        and fast.plain.convert(default) is UNSURE
    ]
    assert unread == []


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the parameters whose value went to Typer's converter."""
    seen: list[str] = []
    original = FastCoercion.typer_coerce

    def spy(self: FastCoercion, value: Any, param: Any, ctx: Any) -> Any:
        seen.append(param.name)
        return original(self, value, param, ctx)

    monkeypatch.setattr(FastCoercion, "typer_coerce", spy)
    return seen


EVERYDAY = [
    ["--timeout", "5", "--retries", "2", "-o", "json", "--no-color", "--quiet", "--csv-safe",
     "list-shares", "--backup-id", BACKUP, "--to-project", P1, "--name", "db",
     "--status", "available", "--availability-zone", "eu-de-01", "--sort-key", "created_at",
     "--sort-dir", "asc", "--limit", "5", "--page-size", "2", "--debug"],
    ["list-shares", "--shared-with-me", "--from-project", P1, "--count", "--timeout", "2.5"],
    ["share", BACKUP, P1, "--dry-run", "-o", "json"],
    ["share", BACKUP, "--projects-file", "-", "--dry-run"],
    ["cancel", "--backup-id", BACKUP, "--to-project", P1, "--to-project", P1[::-1], "--yes",
     "--dry-run", "--concurrency", "2"],
    ["config", "path", "--config", "elsewhere.yaml"],
    ["completion", "bash"],
    ["-h"], ["share", "--help"], ["config", "init", "-h"],
]  # fmt: skip


@pytest.mark.parametrize("argv", EVERYDAY, ids=lambda argv: " ".join(argv)[:40])
def test_everyday_values_never_reach_typers_converter(
    cli: Any, handoffs: list[str], argv: list[str]
) -> None:
    result = cli(*argv, stdin=f"{P1}\n")
    assert result.code == 0, result.err
    assert handoffs == []


def test_an_unusual_value_goes_to_typer_and_means_what_typer_makes_of_it(
    cli: Any, emulator: RunningEmulator, handoffs: list[str]
) -> None:
    emulator.seed_shares(5)
    listed = {
        value: json.loads(cli("list-shares", "--limit", value, "-o", "json").out)
        for value in ("1.0", " 2")  # Typer reads them as 1 and 2
    }
    assert handoffs == ["limit", "limit"]
    assert (len(listed["1.0"]), len(listed[" 2"])) == (1, 2)
    rejected = cli("list-shares", "--limit", "1.5")
    assert (rejected.code, rejected.err.splitlines()[0]) == (
        2,
        "error: invalid value for '--limit': '1.5' is not a valid integer",
    )


# -- exactly Typer's answers --------------------------------------------------------------------
SCALARS = [
    "5", " 5", "5 ", "\t5\n", "1_000", "1__0", "0x10", "0b1", "0o7", "nan", "NaN", "inf", "-inf",
    "+inf", "Infinity", "1e3", "1E3", "1e400", "", " ", "-", "+", "-0", "+5", "-5", "1.0", "-0.0",
    "1.5", "-1.5", "1.", ".5", "0.1", "1,5", "007", "٣", "\uff15", "9" * 18, "-" + "9" * 18, "9" * 19,
    "9" * 30, "1" * 15 + ".5", "0." + "1" * 15, "true", "TRUE", "tRuE", "True", "yes", "Y", "on",
    "t", "1", "0", "false", "No", "OFF", "f", "n", " true ", "\ttrue\n", "\xa0yes", "\u2003no",
    "\uff59\uff45\uff53", "K", "2", "-1", "maybe", "--limit", "a b", "\udcff", "a\x00b", b"5", None, True,
    False, 0, 5, -3, 2**53 - 1, 2**53, 2**64, 5.0, 2.5, -0.0, float("nan"), float("inf"),
]  # fmt: skip
LISTS = [(), ("a",), ("a", "5"), ["x", " 5 "], ("1.0", ""), ("\udcff",), (1, 2), (None,), "ab"]


def outcome(convert: Callable[[Any, Any, Any], Any], value: Any, param: Any, ctx: Any) -> Any:
    """What a converter makes of a value: its result (type and all), or the error it raises."""
    try:
        result = convert(value, param, ctx)
    except Exception as exc:
        return ("error", type(exc).__name__)
    return (type(result).__name__, repr(result))


def differences(values: list[Any], params: list[tuple[Any, Any]]) -> list[str]:
    found = []
    for ctx, param in params:
        fast = fast_coercion(param)
        assert fast is not None
        for value in values:
            ours = outcome(fast.coerce, value, param, ctx)
            typers = outcome(fast.typer_coerce, value, param, ctx)
            if ours != typers:
                found.append(f"{ctx.command_path} {param.name} {value!r}: {ours} != {typers}")
    return found


def test_every_parameter_answers_each_value_as_typer_does() -> None:
    assert differences(SCALARS + LISTS, every_parameter()) == []


def one_parameter_of_each_kind() -> list[tuple[Any, Any]]:
    kinds: dict[tuple[str, bool], tuple[Any, Any]] = {}
    for ctx, param in every_parameter():
        fast = fast_coercion(param)
        assert fast is not None
        kinds.setdefault((fast.plain.kind, fast.plain.many), (ctx, param))
    assert set(kinds) == {("boolean", False), ("integer", False), ("number", False),
                          ("text", False), ("text", True)}  # fmt: skip
    return list(kinds.values())


KINDS = one_parameter_of_each_kind()


def plain_type(kind: str, many: bool = False) -> PlainType:
    [plain] = [fast.plain for _, p in KINDS if (fast := fast_coercion(p)) and fast.plain.kind == kind and fast.plain.many == many]  # fmt: skip
    return plain


NUMBERISH = st.text(alphabet="0123456789-+._ eEinfatrusyoINFTY\t", max_size=8)


@given(value=NUMBERISH | st.text(max_size=6) | st.lists(NUMBERISH, max_size=3).map(tuple))
def test_any_string_is_answered_as_typer_does(value: Any) -> None:
    assert differences([value], KINDS) == []


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("integer", "5", 5), ("integer", "-0", 0), ("integer", "007", 7), ("integer", 8, 8),
        ("number", "1.5", 1.5), ("number", "-2", -2.0), ("number", "3", 3.0), ("number", 30, 30.0),
        ("boolean", "yes", True), ("boolean", " FALSE ", False), ("boolean", "", False),
        ("boolean", True, True), ("text", "x y", "x y"), ("text", "", ""),
        ("integer", " 5", UNSURE), ("integer", "1.0", UNSURE), ("integer", "1_000", UNSURE),
        ("integer", "x", UNSURE), ("number", "1e3", UNSURE), ("number", "nan", UNSURE),
        ("boolean", "maybe", UNSURE), ("boolean", "\uff59\uff45\uff53", UNSURE), ("text", b"x", UNSURE),
    ],
)  # fmt: skip
def test_the_fast_path_reads_the_plain_values_and_leaves_the_rest_to_typer(
    kind: str, value: Any, expected: Any
) -> None:
    assert plain_type(kind).convert(value) == expected


def test_a_list_is_read_when_all_its_items_are() -> None:
    plain = plain_type("text", many=True)
    assert plain.convert(("a", "b")) == ["a", "b"]
    assert plain.convert(("a", b"b")) is UNSURE
    assert plain.convert("ab") is UNSURE  # Typer says: "Value must be an iterable."


def tiny_app() -> typer.Typer:
    """An option from an environment variable, and a number: both paths must agree on them."""
    tiny = typer.Typer(add_completion=False)

    @tiny.command()
    def main(
        flag: Annotated[bool, typer.Option("--flag", envvar="TINY_FLAG")] = False,
        n: Annotated[int, typer.Option("--n")] = 0,
        ratio: Annotated[float | None, typer.Option("--ratio")] = None,
    ) -> tuple[bool, int, float | None]:
        return flag, n, ratio

    return tiny


def tiny_run(command: Any, args: list[str]) -> Any:
    try:
        return command.main(args, standalone_mode=False)
    except typer.TyperException as exc:
        return ("error", exc.exit_code)


@pytest.mark.parametrize(
    "env", ["1", "true", "Yes", "on", "0", "false", "no", " off ", "maybe", "2"]
)
@pytest.mark.parametrize(
    "args", [[], ["--n", "1.0"], ["--n", "1"], ["--n", " 2"], ["--n", "x"], ["--ratio", "1e-3"]]
)
def test_an_option_from_the_environment_and_a_number_read_as_typer_reads_them(
    monkeypatch: pytest.MonkeyPatch, env: str, args: list[str]
) -> None:
    from typer.main import get_command

    monkeypatch.setenv("TINY_FLAG", env)
    fast = click_command(tiny_app())
    assert all(fast_coercion(param) for param in fast.params)
    assert tiny_run(fast, args) == tiny_run(get_command(tiny_app()), args)


def test_the_examples_that_once_differed() -> None:
    command = click_command(tiny_app())
    assert tiny_run(command, ["--n", "1.0"]) == (False, 1, None)
    assert tiny_run(command, ["--n", "1.5"]) == ("error", 2)


# -- when Typer's internals move ----------------------------------------------------------------
MOVES = {
    "the converter method is renamed": (typer_internals, "TYPER_CONVERTER", "runtime_param_v2"),
    "another Typer release": (typer, "__version__", "0.30.0"),
}


@pytest.mark.parametrize("move", MOVES)
def test_when_the_internals_move_no_parameter_takes_the_fast_path(
    monkeypatch: pytest.MonkeyPatch, move: str
) -> None:
    monkeypatch.setattr(*MOVES[move])
    params = every_parameter()
    assert params and not [param for _, param in params if fast_coercion(param)]


SAME_ANSWERS = [
    ["-o", "json", "list-shares", "--limit", "2", "--page-size", "1", "--timeout", "3"],
    ["list-shares", "--limit", "1.0", "-o", "json"],
    ["list-shares", "--count"],
    ["share", BACKUP, P1, "--dry-run", "-o", "json"],
    ["cancel", "--backup-id", BACKUP, "--to-project", P1, "--yes", "--dry-run", "--concurrency", "3"],
    ["config", "path"],
    ["completion", "zsh"],
    ["--help"], ["share", "-h"], [], ["config"],
    ["list-shares", "--bogus"], ["share"], ["list-shares", "--limit", "0"],
]  # fmt: skip


@pytest.mark.parametrize("move", MOVES)
def test_when_the_internals_move_the_commands_still_answer_the_same(
    cli: Any, monkeypatch: pytest.MonkeyPatch, move: str
) -> None:
    fast = [cli(*argv) for argv in SAME_ANSWERS]
    monkeypatch.setattr(*MOVES[move])
    slow = [cli(*argv) for argv in SAME_ANSWERS]
    assert slow == fast
    # Values Typer's converter rejects: the same usage error, in Typer's (pydantic's) words.
    rejected = cli("list-shares", "--limit", "ten")
    assert rejected.code == 2
    assert rejected.err.startswith("error: invalid value for '--limit': Input should be a valid")


# -- what stays true around it ------------------------------------------------------------------
@pytest.mark.parametrize("argv", [[], ["config"]])
def test_a_bare_group_prints_its_help(cli: Any, argv: list[str]) -> None:
    bare, asked = cli(*argv), cli(*argv, "--help")
    assert (bare.code, bare.out, bare.err) == (2, "", asked.out)


def test_only_typer_internals_relies_on_typer_internals() -> None:
    private = re.compile(
        r"\btyper(\.\w+)*\._|from typer[.\w]* import [^\n]*\b_|get_runtime_param|type_descriptor"
    )
    for path in sorted((ROOT / "backupshare").rglob("*.py")):
        if path.name != "typer_internals.py":
            assert not private.search(path.read_text()), path.relative_to(ROOT)


def test_a_real_command_with_values_does_not_import_pydantic() -> None:
    env = {"BACKUPSHARE_ENDPOINT": "http://127.0.0.1:9", "BACKUPSHARE_PROJECT_ID": "0" * 32,
           "BACKUPSHARE_TOKEN": "t"}  # fmt: skip
    argv = ["--retries", "0", "--timeout", "1.5", "-o", "json", "list-shares", "--limit", "5",
            "--page-size", "2", "--sort-dir", "asc"]  # fmt: skip
    loaded = imported(argv, **env)
    assert "requests" in loaded  # it did get as far as talking to the service
    assert not [name for name in loaded if name.split(".")[0] == "pydantic"]
