"""The one module that relies on Typer's internals: a fast path for converting option values.

Why: Typer 0.29 converts every value of every parameter (a missing one too, and Typer's own
--help flag) with a pydantic TypeAdapter, and importing pydantic costs about 80 ms on every
command (benchmarks/README.md). Our parameters are plain (bool, str, int, float, lists of those)
and nearly every value they get is plain too: nothing, a string, "5", "1.5", a flag.

What: `click_command(app)` builds the click command as Typer does and gives each parameter of
it, of its subcommands and of their --help flags a converter of its own (FastCoercion). That
converter reads the values whose meaning is beyond doubt and hands every other value to Typer's
converter, so a value always means what Typer makes of it; only the cost differs. Nothing
Typer-wide is patched: the converters are set on our own parameter objects.

The way out: the one internal used is a parameter's `get_runtime_param()` (it returns the object
whose `coerce(value, param, ctx)` converts a value, and `process_value` asks it for every value).
The fast path is wired only on the Typer version it was checked against (CHECKED_TYPER, see
tests/test_typer_internals.py) and only where that method exists; otherwise nothing is wired and
Typer's own path runs: slower, never broken.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, Final, NamedTuple

import typer

CHECKED_TYPER: Final = "0.29."  # the Typer releases whose internals this module was checked on
TYPER_CONVERTER: Final = "get_runtime_param"  # the parameter method the fast path stands in for


class Unsure(Enum):
    """A value the fast path does not read itself: Typer's converter decides."""

    VALUE = "unsure"


UNSURE: Final = Unsure.VALUE

# Only what Typer (pydantic) reads the same way: ASCII digits, an optional minus sign, no spaces,
# underscores, exponents or spelled-out numbers ("1_000", " 5", "1e3", "nan" go to Typer).
# (Text, not compiled patterns: `re` compiles and caches them the first time a value needs one.)
_INTEGER = r"-?[0-9]{1,18}"
_DECIMAL = r"-?[0-9]{1,15}(\.[0-9]{1,15})?"
# Typer strips a boolean string and reads "" as false; pydantic takes these in any letter case.
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


def _read_bool(value: Any) -> bool | Unsure:
    if type(value) is bool:
        return value
    if type(value) is str and value.isascii():
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    return UNSURE


def _read_int(value: Any) -> int | Unsure:
    if type(value) is int:
        return value
    if type(value) is str and re.fullmatch(_INTEGER, value):
        return int(value)
    return UNSURE


def _read_float(value: Any) -> float | Unsure:
    if type(value) is float:
        return value
    if type(value) is int and abs(value) < 2**53:  # a default such as `timeout: float = 30`
        return float(value)
    if type(value) is str and re.fullmatch(_DECIMAL, value):
        return float(value)
    return UNSURE


def _read_str(value: Any) -> str | Unsure:
    return value if type(value) is str else UNSURE


READERS: Final[dict[Any, tuple[Callable[[Any], Any], str]]] = {
    bool: (_read_bool, "boolean"),
    int: (_read_int, "integer"),
    float: (_read_float, "number"),
    str: (_read_str, "text"),
}


class PlainType(NamedTuple):
    """A parameter type the fast path can read: a scalar of READERS, or a list of one. (A
    NamedTuple: a fifth of a frozen dataclass's cost to define, paid by every command.)"""

    read: Callable[[Any], Any]
    kind: str  # for messages: "integer", "number", ...
    many: bool

    def convert(self, value: Any) -> Any:
        """The value as Typer would make it, or UNSURE."""
        if not self.many:
            return self.read(value)
        if not isinstance(value, (list, tuple)):
            return UNSURE
        items = [self.read(item) for item in value]
        return UNSURE if any(item is UNSURE for item in items) else items


class FastCoercion:
    """One parameter's converter: reads plain values itself and hands the rest to Typer's."""

    def __init__(self, plain: PlainType, typer_converter: Callable[[], Any]) -> None:
        self.plain = plain
        self._typer_converter = typer_converter  # built on first use: that is the slow part

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # not given: what Typer's converter answers, without building it
            return () if param.multiple or param.nargs == -1 else None
        converted = self.plain.convert(value)
        if converted is not UNSURE:
            return converted
        try:
            return self.typer_coerce(value, param, ctx)
        except typer.BadParameter:
            if self.plain.many:
                raise
            # Typer's own wording is pydantic's ("Input should be a valid integer, unable to
            # parse string as an integer"); ours names the value.
            raise typer.BadParameter(
                f"{value!r} is not a valid {self.plain.kind}", ctx=ctx, param=param
            ) from None

    def typer_coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        """The value through Typer's own converter (the slow path)."""
        return self._typer_converter().coerce(value, param=param, ctx=ctx)

    def myself(self) -> FastCoercion:
        """Set on a parameter in place of Typer's `get_runtime_param`."""
        return self

    def __getattr__(self, name: str) -> Any:
        # Whatever else Typer may ask of its converter, its own converter answers.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._typer_converter(), name)


def click_command(app: typer.Typer) -> Any:
    """The click command Typer builds for `app`, its parameters given the fast path and its
    help made to paste (see paste_friendly_help)."""
    from typer.main import get_command  # public: Typer's docs, "Using Click"

    command = get_command(app)
    if typer.__version__.startswith(CHECKED_TYPER):
        _give_fast_paths(command)
    paste_friendly_help(command)
    return command


# -- help that pastes ------------------------------------------------------------------------------
EXAMPLE_SEPARATOR: Final = "  ·  "


def paste_friendly_help(command: Any) -> None:
    """--help a person can copy from: each example on a line of its own, never wrapped inside an
    option; arguments named by their metavar (`BACKUP`, `PROJECT_ID...`), not by Python types
    (Typer shows `BACKUP <str>`, `PROJECT_ID <list[str]>`). Set on our own command objects."""
    if command.epilog and not getattr(command, "_paste_friendly", False):
        command.format_epilog = _epilog_writer(command.epilog)
        command._paste_friendly = True
    for param in command.params:
        if getattr(param, "param_type_name", "") == "argument":
            _plain_argument_name(param)
    for subcommand in getattr(command, "commands", {}).values():  # a group's, built so far
        paste_friendly_help(subcommand)


def epilog_lines(epilog: str) -> tuple[str, list[str], list[str]]:
    """`Examples:  backupshare a  ·  backupshare b  ·  A remark.` as its title, its example
    lines and its remarks (sentences, written after the lines)."""
    title, _, rest = epilog.partition(":  ")
    if not rest:
        return "", [], [epilog]
    items = [item.strip() for item in rest.split(EXAMPLE_SEPARATOR) if item.strip()]
    examples = [item for item in items if not is_prose(item)]
    remarks = [item for item in items if is_prose(item)]
    return f"{title}:", examples, remarks


def is_prose(item: str) -> bool:
    """A sentence (it ends with a full stop) wraps; a command line or a shell comment never."""
    return item.endswith(".") and not item.startswith(("backupshare", "#"))


def _epilog_writer(epilog: str) -> Callable[[Any, Any], None]:
    title, examples, remarks = epilog_lines(epilog)

    def format_epilog(ctx: Any, formatter: Any) -> None:
        formatter.write_paragraph()
        with formatter.indentation():
            indent = " " * formatter.current_indent
            if title:
                formatter.write(f"{indent}{title}\n")
            for example in examples:  # whole, however narrow the terminal: it is pasted
                formatter.write(f"{indent}  {example}\n")
            for remark in remarks:
                if title:
                    formatter.write_paragraph()
                formatter.write_text(remark)

    return format_epilog


def _plain_argument_name(param: Any) -> None:
    """An argument shown as its metavar alone, `...` after one that takes several."""
    name = (param.metavar or param.name or "").upper()
    if param.nargs == -1 and not name.endswith("..."):
        name += "..."
    param.display_type_rich = lambda ctx: None
    param._rich_display_name = lambda: name


def fast_coercion(param: Any) -> FastCoercion | None:
    """The fast path set on `param`, if any."""
    converter = getattr(param, "__dict__", {}).get(TYPER_CONVERTER)
    owner = getattr(converter, "__self__", None)
    return owner if isinstance(owner, FastCoercion) else None


def _give_fast_paths(command: Any) -> None:
    for param in command.params:
        _give_fast_path(param)
    _give_fast_path_to_help_option(command)
    for subcommand in getattr(command, "commands", {}).values():  # a group's, built so far
        _give_fast_paths(subcommand)


def _give_fast_path_to_help_option(command: Any) -> None:
    """--help is made on first use (its names depend on the context): wire it then."""
    typer_get_help_option = getattr(command, "get_help_option", None)
    if typer_get_help_option is None:
        return

    def get_help_option(ctx: Any) -> Any:
        option = typer_get_help_option(ctx)
        if option is not None:
            _give_fast_path(option)
        return option

    command.get_help_option = get_help_option


def _give_fast_path(param: Any) -> None:
    if fast_coercion(param) is not None:
        return
    typer_method = getattr(type(param), TYPER_CONVERTER, None)
    plain = _plain_type(param)
    if typer_method is None or plain is None:
        return
    fast = FastCoercion(plain, lambda: typer_method(param))
    setattr(param, TYPER_CONVERTER, fast.myself)


def _plain_type(param: Any) -> PlainType | None:
    descriptor = getattr(param, "type_descriptor", None)
    info = getattr(descriptor, "parameter_info", None)
    annotation = getattr(descriptor, "annotation", None)
    if info is None or not _converts_by_type_alone(info):
        return None
    many = typing.get_origin(annotation) is list
    if many:
        items = typing.get_args(annotation)
        annotation = items[0] if len(items) == 1 else None
    for scalar, (read, kind) in READERS.items():
        if annotation is scalar:  # `is`: a subclass of int is not read as int
            return PlainType(read, kind, many)
    return None


def _converts_by_type_alone(info: Any) -> bool:
    """No custom parser and no range: Typer's converter is then the type's alone."""
    bounds = (getattr(info, name, "unknown") for name in ("parser", "min", "max"))
    return all(bound is None for bound in bounds) and getattr(info, "clamp", "unknown") is False


__all__ = ["CHECKED_TYPER", "TYPER_CONVERTER", "FastCoercion", "click_command", "fast_coercion"]
