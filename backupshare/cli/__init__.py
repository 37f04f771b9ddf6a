"""The command line: a Typer app whose commands parse flags and call commands.py.

`main()` owns the one mapping from exceptions to exit codes (CLI.md's table): usage errors 2,
our errors their own code, Ctrl-C/SIGTERM 130, anything else 1 — without a traceback unless
--debug asks for one.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # kept out of start-up: `--version` needs none of them
    from collections.abc import Sequence
    from types import FrameType

    from ..errors import BackupshareError, UsageError

COMPLETE_VAR = "_BACKUPSHARE_COMPLETE"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI and returns its exit code (main() exits with it)."""
    import signal

    import typer
    from typer._click import exceptions as click_exceptions
    from typer.main import get_command

    from ..errors import BackupshareError, UsageError
    from . import coercion
    from .app import app
    from .common import STATE

    signal.signal(signal.SIGTERM, _on_sigterm)
    STATE.__init__()  # type: ignore[misc]  # a fresh invocation (tests run many in one process)
    args = list(sys.argv[1:] if argv is None else argv)
    command = get_command(app)
    coercion.install()
    if os.environ.get(COMPLETE_VAR):  # a shell asks for candidates: register Typer's shells
        from typer._completion_classes import completion_init

        completion_init()
    try:
        result = command.main(args, prog_name="backupshare", standalone_mode=False)
        if result == 130:  # Typer turns Ctrl-C inside a command into a silent Exit(130)
            return _interrupted()
        return result if isinstance(result, int) else 0
    except click_exceptions.NoArgsIsHelpError as exc:
        print(exc.format_message(), file=sys.stderr)  # the help itself, as asked
        return UsageError.exit_code
    except click_exceptions.UsageError as exc:
        return _fail(_usage_error(exc))
    except (typer.Abort, KeyboardInterrupt, EOFError):
        return _interrupted()
    except typer.Exit as exc:
        return int(exc.exit_code)
    except BackupshareError as exc:
        return _fail(exc)
    except BrokenPipeError:
        _silence_stdout()
        return 141  # like a shell: the reader went away (`| head`)
    except Exception as exc:
        if STATE.flags.debug:
            raise
        print(
            f"error: internal error: {exc.__class__.__name__}: {exc}\n"
            "hint: this is a bug; re-run with --debug for a traceback and report it",
            file=sys.stderr,
        )
        return 1


def _interrupted() -> int:
    from ..errors import Interrupted

    return _fail(Interrupted("interrupted", hint="work in progress was stopped; re-run to finish"))


def _usage_error(exc: object) -> UsageError:
    from typer._click import exceptions as click_exceptions

    from ..errors import UsageError

    assert isinstance(exc, click_exceptions.UsageError)
    message = exc.format_message()
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "backupshare"
    return UsageError(message[:1].lower() + message[1:], hint=f"see '{where} --help'")


def _fail(error: BackupshareError) -> int:
    import contextlib

    from .common import STATE

    with contextlib.suppress(BrokenPipeError):
        STATE.out().error(error)
    return error.exit_code


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # answered without loading Typer: scripts call this a lot
        from .about import version_text

        print(version_text())
        sys.exit(0)
    code = run(args)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = 141
    sys.exit(code)


__all__ = ["COMPLETE_VAR", "main", "run"]
