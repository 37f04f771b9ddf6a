"""The commands the CLI knows: each one's name, module and one-line help (COMMANDS, written
once), how one is built from its function, and how a mistyped name is answered. Below the app
and the command modules, so that each can use it without importing the other."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer
from typer.core import TyperGroup

from ..errors import UsageError

# name: (module in this package, one-line help). The help is written here once: the command
# functions carry no docstring (Typer would show this line, not theirs). Commands are built
# only when used, so `backupshare share --help` does not pay for building every other command
# (see benchmarks/).
COMMANDS = {
    "share": ("shares", "Share a backup with one or more projects (safe to re-run)."),
    "backups": ("shares", "List this project's backups, newest first: what there is to share."),
    "list-shares": ("shares", "List sharings made by this project, or made to it."),
    "show": ("shares", "Show one sharing with its backup's details."),
    "cancel": (
        "shares",
        "End sharings: by id, every (or some) sharing of a backup, or a project's everywhere.",
    ),
    "accept": ("shares", "Accept a CBR backup offered to this project (into a vault)."),
    "reject": ("shares", "Reject a CBR backup offered to this project."),
    "demo": ("tools", "Tour the tool against a bundled emulator of its own (no account needed)."),
    "audit": ("audit", "Check every sharing against the projects allowed (read-only)."),
    "plan": ("policy", "Compare a sharings file with the live sharings (read-only)."),
    "apply": ("policy", "Converge the sharings to a sharings file (or a saved plan)."),
    "config": ("tools", "Create, inspect and check configuration profiles."),
    "doctor": ("tools", "Check config, endpoint, credentials and clock, step by step."),
    "emulator": ("tools", "Run the local emulator of the VBS and CBR APIs."),
    "completion": ("tools", "Print the shell completion script."),
    "help": ("tools", "Show a command's help or a reference topic: backupshare help share."),
}


class SuggestingGroup(TyperGroup):
    """A group that answers a mistyped command with the command that was probably meant."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        known = self.list_commands(ctx)
        if name and not name.startswith("-") and name not in known:
            raise unknown_command(name, known, ctx.command_path)
        return super().resolve_command(ctx, args)


def unknown_command(name: str, known: Iterable[str], where: str) -> UsageError:
    """A mistyped command (`shar`, `cancle`) names the command that was probably meant."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
    if close:
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? see '{where} --help'"
    else:
        hint = f"commands: {', '.join(known)}; see '{where} --help'"
    return UsageError(f"no such command {name!r}", hint=hint)


def single_command(name: str, function: Callable[..., Any], **options: Any) -> Any:
    """A click command built by Typer from one function (a one-command Typer app). Its help
    line is the one the root's command list shows (COMMANDS), written once."""
    from .typer_internals import click_command

    one = typer.Typer(rich_markup_mode=None, add_completion=False)
    one.command(name, help=COMMANDS[name][1], **options)(function)
    return click_command(one)
