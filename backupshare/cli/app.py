"""The Typer app: the root group with the global options, and its commands, built lazily."""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .about import version_text
from .catalog import COMMANDS, SuggestingGroup
from .invocation import Invocation
from .options import with_common_options


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
        # Grouped by what a person comes to do: the sharing itself, the policy over it, then
        # setting up. Every command module is in one section (a test checks every command shows).
        sections = (
            ("Sharing", ("shares",)),
            ("Sharing policy", ("audit", "policy")),
            ("Setup and tools", ("tools",)),
        )
        for title, modules in sections:
            with formatter.section(title):
                formatter.write_dl(
                    [(name, summary) for name, (mod, summary) in COMMANDS.items() if mod in modules]
                )


app = typer.Typer(
    name="backupshare",
    cls=LazyGroup,
    help="Share cloud disk backups between projects (Huawei Cloud, Open Telekom Cloud).",
    epilog="Examples:  backupshare share BACKUP_ID PROJECT_ID  ·  backupshare help share  ·  "
    "backupshare help exit-codes  ·  each command's --help has more; `backupshare help TOPIC` "
    "shows a reference page, offline: exit-codes, configuration, output, commands, sharings, "
    "wire, emulator.",
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
    # Its help is the app's (`help=` above): the options are all this callback is for.
    return
