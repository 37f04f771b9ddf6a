"""The Typer app: the root group with the global options, and its commands, built lazily."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ..errors import UsageError
from .about import version_text
from .common import Invocation, with_common_options

# name: (module in this package, one-line help). Commands are built only when used, so
# `backupshare share --help` does not pay for building every other command (see benchmarks/).
COMMANDS = {
    "share": ("shares", "Share a backup with one or more projects (safe to re-run)."),
    "backups": ("shares", "List this project's backups, newest first: what there is to share."),
    "list-shares": ("shares", "List sharings made by this project, or made to it."),
    "show": ("shares", "Show one sharing with its backup's details."),
    "cancel": ("shares", "End sharings: by id, or every (or some) sharing of a backup."),
    "accept": ("shares", "Accept a CBR backup offered to this project (into a vault)."),
    "reject": ("shares", "Reject a CBR backup offered to this project."),
    "demo": ("tools", "Tour the tool against a bundled emulator of its own (no account needed)."),
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


class LazyGroup(SuggestingGroup):
    """The root group: it knows its commands by name and builds one only when it is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module = importlib.import_module(f"{__package__}.{COMMANDS[cmd_name][0]}")
            self.commands[cmd_name] = module.command(cmd_name)
        return self.commands[cmd_name]

    def invoke(self, ctx: Any) -> Any:
        # --version is answered here, after parsing, so that --verbose is known in either order.
        if ctx.params.get("version"):
            print(version_text(verbose=ctx.params.get("verbose", False)))
            raise typer.Exit(0)
        if ctx.params.get("verbose"):
            raise UsageError(
                "--verbose only goes with --version", hint="for request logs use --debug"
            )
        return super().invoke(ctx)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # Grouped by what a person comes to do: the sharing itself, then setting up.
        for title, module in (("Sharing", "shares"), ("Setup and tools", "tools")):
            with formatter.section(title):
                formatter.write_dl(
                    [(name, summary) for name, (mod, summary) in COMMANDS.items() if mod == module]
                )


def unknown_command(name: str, known: Iterable[str], where: str) -> UsageError:
    """A mistyped command (`shar`, `cancle`) names the command that was probably meant."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
    if close:
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? see '{where} --help'"
    else:
        hint = f"commands: {', '.join(known)}; see '{where} --help'"
    return UsageError(f"no such command {name!r}", hint=hint)


app = typer.Typer(
    name="backupshare",
    cls=LazyGroup,
    help="Share cloud disk backups between projects (Huawei Cloud, Open Telekom Cloud).",
    epilog="Examples:  backupshare share BACKUP_ID PROJECT_ID  ·  backupshare help share  ·  "
    "backupshare help exit-codes  ·  each command's --help has more; `backupshare help TOPIC` "
    "shows a reference page, offline: exit-codes, configuration, output, commands, wire, "
    "emulator.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
@with_common_options
def root(
    inv: Invocation,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", help="With --version: Python, platform and libraries, for a bug report."
        ),
    ] = False,
) -> None:
    """Share cloud disk backups between projects (Huawei Cloud, Open Telekom Cloud)."""
