"""What every command shares: the common options, the invocation's state, settings and client."""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ..config import FLAG_SETTINGS, OUTPUT_FORMATS, Flags, Setting
from ..errors import UsageError

if TYPE_CHECKING:
    from ..commands import Interrupt, SharingService
    from ..config import Settings
    from ..output import Output

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Invocation:
    """The state of this run: the global options, and what was built from them."""

    flags: Flags = field(default_factory=Flags)
    no_color: bool = False
    quiet: bool = False
    csv_safe: bool = False
    abandoned_work: bool = False  # threads left running after a second Ctrl-C: exit at once
    settings: Settings | None = None
    output: Output | None = None

    def out(self) -> Output:
        """The renderer; before settings are known it follows -o or BACKUPSHARE_OUTPUT."""
        if self.output is None:
            from ..output import Output

            fmt = self.settings.output if self.settings else self.flags.output
            fmt = fmt or os.environ.get("BACKUPSHARE_OUTPUT") or "table"
            if fmt not in OUTPUT_FORMATS:
                fmt = "table"
            self.output = Output(
                fmt, quiet=self.quiet, no_color=self.no_color, csv_safe=self.csv_safe
            )
        return self.output


STATE = Invocation()


def complete_profiles(incomplete: str) -> list[str]:
    """Profile names from the config file alone (no network in completion)."""
    from ..config import config_path, read_config_file

    try:
        path, _ = config_path(None, os.environ)
        profiles = read_config_file(path).get("profiles") or {}
    except Exception:  # completion must never fail loudly
        return []
    return [name for name in profiles if str(name).startswith(incomplete)]


def complete_output(incomplete: str) -> list[str]:
    return [fmt for fmt in OUTPUT_FORMATS if fmt.startswith(incomplete)]


GLOBAL_PANEL = "Global options"
SHORT_FLAGS = {"output": ("-o",)}
COMPLETIONS = {"output": complete_output}


def _common_parameters() -> list[inspect.Parameter]:
    def option(name: str, annotation: Any, *decls: str, **kwargs: Any) -> inspect.Parameter:
        info = typer.Option(None, *decls, rich_help_panel=GLOBAL_PANEL, **kwargs)
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation
        )

    def setting_option(setting: Setting) -> inspect.Parameter:
        """A global option for a setting of the table (config.SETTINGS)."""
        kind = setting.number.kind if setting.number else str
        assert setting.flag is not None
        return option(
            setting.key,
            kind | None,
            setting.flag,
            *SHORT_FLAGS.get(setting.key, ()),
            help=setting.help,
            metavar=setting.metavar,
            autocompletion=COMPLETIONS.get(setting.key),
        )

    def flag(name: str, *decls: str, **kwargs: Any) -> inspect.Parameter:
        info = typer.Option(False, *decls, rich_help_panel=GLOBAL_PANEL, **kwargs)
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=bool
        )

    return [
        option(
            "profile",
            str | None,
            "--profile",
            "-p",
            help="Profile to use.",
            metavar="NAME",
            autocompletion=complete_profiles,
        ),
        option("config", str | None, "--config", help="Config file to read.", metavar="FILE"),
        *(setting_option(setting) for setting in FLAG_SETTINGS),
        flag("debug", "--debug", help="Log requests (secrets redacted) and show tracebacks."),
        flag("no_color", "--no-color", help="No colour or rich tables."),
        flag("quiet", "--quiet", "-q", help="Only what -o asks for on stdout; no notices."),
        flag(
            "csv_safe",
            "--csv-safe",
            help="CSV for spreadsheets: quote cells starting with = + - @ with a '.",
        ),
    ]


COMMON_PARAMETERS = _common_parameters()
COMMON_NAMES = tuple(p.name for p in COMMON_PARAMETERS)
FLAG_NAMES = {f.name for f in fields(Flags)}


def remember(values: dict[str, Any]) -> None:
    """Merges options given at this level into the invocation (later levels win)."""
    if values.get("output") is not None and values["output"] not in OUTPUT_FORMATS:
        raise UsageError(
            f"invalid --output {values['output']!r}: choose one of {', '.join(OUTPUT_FORMATS)}"
        )
    # `is`, not `in`: 0 == False, and `--retries 0` is a value, not an absent flag.
    given = {
        k: v for k, v in values.items() if k in FLAG_NAMES and v is not None and v is not False
    }
    STATE.flags = replace(STATE.flags, **given)
    STATE.no_color = STATE.no_color or bool(values.get("no_color"))
    STATE.quiet = STATE.quiet or bool(values.get("quiet"))
    STATE.csv_safe = STATE.csv_safe or bool(values.get("csv_safe"))
    STATE.output = None


def with_common_options(func: F) -> F:
    """Adds the global options to a command, so they are accepted after its name too."""
    signature = inspect.signature(func, eval_str=True)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        remember({name: kwargs.pop(name) for name in COMMON_NAMES})
        return func(*args, **kwargs)

    parameters = list(signature.parameters.values()) + COMMON_PARAMETERS
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def single_command(name: str, function: Callable[..., Any], **options: Any) -> Any:
    """A click command built by Typer from one function (a one-command Typer app)."""
    from .typer_internals import click_command

    one = typer.Typer(rich_markup_mode=None, add_completion=False)
    one.command(name, **options)(function)
    return click_command(one)


def settings() -> Settings:
    if STATE.settings is None:
        from ..config import load_settings

        STATE.settings = load_settings(STATE.flags)
        STATE.output = None
        for warning in STATE.settings.warnings:
            STATE.out().warning(warning)
    return STATE.settings


def service(pool_size: int = 8) -> SharingService:
    """The backup service of the profile, connected for this invocation."""
    current = settings()
    log = debug_logger() if current.debug else None
    if current.service == "cbr":
        from ..cbr import Cbr

        return Cbr.connect(current, log=log, pool_size=pool_size)
    from ..vbs import Vbs

    return Vbs.connect(current, log=log, pool_size=pool_size)


def debug_logger() -> Callable[[str], None]:
    from ..output import printable

    def log(line: str) -> None:
        print(f"debug: {printable(line)}", file=sys.stderr)

    return log


def is_terminal() -> bool:
    """May we ask a person? Only the terminal decides (NO_COLOR is about colour, not prompts)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


@contextmanager
def interrupt_latch() -> Iterator[Interrupt]:
    """Within: Ctrl-C and SIGTERM raise a flag the batch polls instead of an exception, so no
    interrupt can land between the work and its report (see commands.Interrupt)."""
    import signal
    import threading

    from ..commands import Interrupt

    stop = Interrupt()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def raise_flag(signum: int, frame: Any) -> None:
        stop.raise_()
        if stop.count == 1:
            STATE.out().notice("interrupted: finishing what is in flight (Ctrl-C again to stop)")

    previous = {sig: signal.signal(sig, raise_flag) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STATE.abandoned_work = STATE.abandoned_work or stop.abandoned
