"""What every command shares: the common options, the invocation's state, settings and client."""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import typer

from ..config import FLAG_SETTINGS, OUTPUT_FORMATS, Flags, Setting
from ..errors import UsageError

if TYPE_CHECKING:
    from ..commands import Interrupt
    from ..config import Settings
    from ..output import Output
    from ..service import SharingService


@dataclass
class Invocation:
    """One run of the CLI: the global options, and what was built from them. `run()` makes one
    per invocation and hands it to Typer as the root context's `obj`; every command receives
    it as its first argument (see with_common_options). Tests may pass their own, e.g. with a
    `sleep` that does not wait."""

    flags: Flags = field(default_factory=Flags)
    no_color: bool = False
    quiet: bool = False
    csv_safe: bool = False
    abandoned_work: bool = False  # threads left running after a second Ctrl-C: exit at once
    resolved: Settings | None = None
    output: Output | None = None
    sleep: Callable[[float], None] = time.sleep  # between retries

    def remember(self, values: dict[str, Any]) -> None:
        """Merges options given at one level (before or after the command's name)."""
        if values.get("output") is not None and values["output"] not in OUTPUT_FORMATS:
            raise UsageError(
                f"invalid --output {values['output']!r}: choose one of {', '.join(OUTPUT_FORMATS)}"
            )
        # `is`, not `in`: 0 == False, and `--retries 0` is a value, not an absent flag.
        given = {
            k: v for k, v in values.items() if k in FLAG_NAMES and v is not None and v is not False
        }
        self.flags = replace(self.flags, **given)
        self.no_color = self.no_color or bool(values.get("no_color"))
        self.quiet = self.quiet or bool(values.get("quiet"))
        self.csv_safe = self.csv_safe or bool(values.get("csv_safe"))
        self.output = None

    def settings(self) -> Settings:
        """The profile's settings, resolved once (their warnings said once)."""
        if self.resolved is None:
            from ..config import load_settings

            self.resolved = load_settings(self.flags)
            self.output = None
            for warning in self.resolved.warnings:
                self.out().warning(warning)
        return self.resolved

    def service(self, pool_size: int = 8) -> SharingService:
        """The backup service of the profile, connected for this invocation."""
        current = self.settings()
        log = debug_logger() if current.debug else None
        from ..service import connect

        return connect(current, log=log, pool_size=pool_size, sleep=self.sleep)

    @contextmanager
    def interrupt_latch(self) -> Iterator[Interrupt]:
        """Within: Ctrl-C and SIGTERM raise a flag the batch polls instead of an exception, so
        no interrupt can land between the work and its report (see commands.Interrupt)."""
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
                self.out().notice("interrupted: finishing what is in flight (Ctrl-C again to stop)")

        handlers = {sig: signal.signal(sig, raise_flag) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield stop
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            self.abandoned_work = self.abandoned_work or stop.abandoned

    def out(self) -> Output:
        """The renderer; before settings are known it follows -o or BACKUPSHARE_OUTPUT."""
        if self.output is None:
            from ..output import Output

            fmt = self.resolved.output if self.resolved else self.flags.output
            fmt = fmt or os.environ.get("BACKUPSHARE_OUTPUT") or "table"
            if fmt not in OUTPUT_FORMATS:
                fmt = "table"
            self.output = Output(
                fmt, quiet=self.quiet, no_color=self.no_color, csv_safe=self.csv_safe
            )
        return self.output


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
        flag("no_color", "--no-color", help="No colour (prompts and tables stay)."),
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


def with_common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the global options to a command, so they are accepted after its name too, and
    calls it with this run's Invocation (the root context's `obj`) as its first argument."""
    return CommonOptions(func)


class CommonOptions:
    """A command function with the global options added (see `with_common_options`). Its
    signature, which Typer reads to build the command, is worked out on first use: evaluating
    a command's annotations costs ≈ 1 ms, and a run builds only the command it runs."""

    def __init__(self, func: Callable[..., Any]) -> None:
        functools.update_wrapper(self, func)
        self._func = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.pop(CONTEXT_NAME)
        invocation = ctx.ensure_object(Invocation)
        invocation.remember({name: kwargs.pop(name) for name in COMMON_NAMES})
        return self._func(invocation, *args, **kwargs)

    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self._func, eval_str=True)
        own = list(signature.parameters.values())[1:]  # the first is the Invocation
        context = inspect.Parameter(
            CONTEXT_NAME, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )
        return signature.replace(parameters=[*own, *COMMON_PARAMETERS, context])


CONTEXT_NAME = "_typer_context"  # never an option: Typer passes its Context by annotation


def single_command(name: str, function: Callable[..., Any], **options: Any) -> Any:
    """A click command built by Typer from one function (a one-command Typer app). Its help
    line is the one the root's command list shows (app.COMMANDS), written once."""
    from .app import COMMANDS
    from .typer_internals import click_command

    one = typer.Typer(rich_markup_mode=None, add_completion=False)
    one.command(name, help=COMMANDS[name][1], **options)(function)
    return click_command(one)


def debug_logger() -> Callable[[str], None]:
    from ..output import printable

    def log(line: str) -> None:
        print(f"debug: {printable(line)}", file=sys.stderr)

    return log


def is_terminal() -> bool:
    """May we ask a person? Only the terminal decides (NO_COLOR is about colour, not prompts)."""
    return sys.stdin.isatty() and sys.stderr.isatty()
