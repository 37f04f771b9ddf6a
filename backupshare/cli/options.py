"""The global options every command accepts (before or after its name), built from the
settings table (config.SETTINGS), and the decorator that hands each command its Invocation."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

import typer

from ..config import FLAG_SETTINGS, GRAPH_FORMAT, OUTPUT_FORMATS, Setting
from ..errors import UsageError
from .invocation import Invocation


def complete_profiles(incomplete: str) -> list[str]:
    """Profile names from the config file alone (no network in completion)."""
    from ..config_file import config_path, read_config_file

    try:
        path, _ = config_path(None, os.environ)  # completion runs before any Invocation
        profiles = read_config_file(path).get("profiles") or {}
    except Exception:  # completion must never fail loudly
        return []
    return [name for name in profiles if str(name).startswith(incomplete)]


def complete_output(incomplete: str) -> list[str]:
    return [fmt for fmt in (*OUTPUT_FORMATS, GRAPH_FORMAT) if fmt.startswith(incomplete)]


GRAPH_COMMANDS = ("list_shares", "audit")  # the commands -o dot draws a graph for


SHORT_FLAGS = {"output": ("-o",)}
COMPLETIONS = {"output": complete_output}


def _common_parameters() -> list[inspect.Parameter]:
    def option(name: str, annotation: Any, *decls: str, **kwargs: Any) -> inspect.Parameter:
        info = typer.Option(None, *decls, **kwargs)
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
        info = typer.Option(False, *decls, **kwargs)
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
            help="CSV for spreadsheets: quote any cell starting with = + - @ with a '.",
        ),
    ]


COMMON_PARAMETERS = _common_parameters()
COMMON_NAMES = tuple(p.name for p in COMMON_PARAMETERS)


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
        if invocation.wants_graph() and self._func.__name__ not in GRAPH_COMMANDS:
            raise UsageError(
                "-o dot draws the sharing graph of list-shares (across the project) and audit only",
                hint=f"choose one of {', '.join(OUTPUT_FORMATS)}",
            )
        return self._func(invocation, *args, **kwargs)

    @functools.cached_property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self._func, eval_str=True)
        own = list(signature.parameters.values())[1:]  # the first is the Invocation
        context = inspect.Parameter(
            CONTEXT_NAME, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )
        whole = signature.replace(parameters=[*own, *COMMON_PARAMETERS, context])
        # Typer also asks typing.get_type_hints (twice per command), which would evaluate the
        # string annotations again each time (≈ 0.6 ms for list-shares): hand it these.
        self.__annotations__ = {p.name: p.annotation for p in whole.parameters.values()}
        self.__annotations__["return"] = whole.return_annotation
        return whole


CONTEXT_NAME = "_typer_context"  # never an option: Typer passes its Context by annotation
