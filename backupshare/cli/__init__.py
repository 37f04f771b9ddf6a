"""The command line: a Typer app whose commands parse flags, call the library's Client, render.

`main()` owns the one mapping from exceptions to exit codes (docs/exit-codes.md): usage errors 2,
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
    from typing import Any, TypeGuard

    from typer import TyperException

    from ..errors import BackupshareError, UsageError
    from .invocation import Invocation

from .about import COMPLETE_VAR


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(argv: Sequence[str] | None = None, invocation: Invocation | None = None) -> int:
    """Runs the CLI in this process and returns its exit code. Nothing here touches the
    process itself (signals, file descriptors): main() does, at the process boundary."""
    return _run(list(sys.argv[1:] if argv is None else argv), invocation or _invocation())[0]


def _invocation() -> Invocation:
    from .invocation import Invocation

    return Invocation()


def _run(args: list[str], invocation: Invocation) -> tuple[int, Invocation]:
    import typer

    from ..errors import BackupshareError
    from .app import app
    from .typer_internals import click_command

    command = click_command(app)
    if os.environ.get(COMPLETE_VAR):  # a shell asks for candidates: register Typer's shells
        # typer.completion, Typer's public module for this, re-exports it without declaring it
        from typer.completion import completion_init  # type: ignore[attr-defined]

        completion_init()
    try:
        result = command.main(args, prog_name="backupshare", standalone_mode=False, obj=invocation)
        if result == 130:  # Typer turns Ctrl-C inside a command into a silent Exit(130)
            return _interrupted(invocation), invocation
        return (result if isinstance(result, int) else 0), invocation
    except (typer.Abort, KeyboardInterrupt, EOFError):
        return _interrupted(invocation), invocation
    except typer.Exit as exc:
        return int(exc.exit_code), invocation
    except BackupshareError as exc:
        return _fail(invocation, exc), invocation
    except BrokenPipeError:
        return READER_GONE, invocation  # like a shell: the reader went away (`| head`)
    except SystemExit as exc:
        if _reader_gone(exc):  # click turns a broken pipe into exit 1; a shell says 141
            return READER_GONE, invocation
        raise
    except Exception as exc:
        if _is_usage_error(exc):
            return _usage_failure(invocation, exc), invocation
        if invocation.flags.debug:
            raise
        print(
            f"error: internal error: {exc.__class__.__name__}: {exc}\n"
            "hint: this is a bug; re-run with --debug for a traceback and report it",
            file=sys.stderr,
        )
        return 1, invocation


READER_GONE = 141


def _reader_gone(exc: SystemExit) -> bool:
    import errno

    cause = exc.__context__
    return isinstance(cause, OSError) and cause.errno == errno.EPIPE


def _interrupted(invocation: Invocation) -> int:
    from ..errors import Interrupted

    stopped = Interrupted("interrupted", hint="work in progress was stopped; re-run to finish")
    return _fail(invocation, stopped)


def _interrupted_early() -> int:
    """Ctrl-C while the modules that print errors were still loading: the same two lines,
    written without them (importing more could be interrupted again)."""
    sys.stderr.write("error: interrupted\nhint: work in progress was stopped; re-run to finish\n")
    sys.stderr.flush()
    return 130


def _is_usage_error(exc: Exception) -> TypeGuard[TyperException]:
    """Typer's usage errors (no such option, missing argument...): exit code 2, as in click."""
    import typer

    return isinstance(exc, typer.TyperException) and exc.exit_code == 2


def _usage_failure(invocation: Invocation, exc: TyperException) -> int:
    from ..errors import UsageError

    ctx = getattr(exc, "ctx", None)
    if ctx is not None and exc.format_message() == ctx.get_help():
        # a bare `backupshare` or `backupshare config` (no_args_is_help): the help, as asked
        print(exc.format_message(), file=sys.stderr)
        return UsageError.exit_code
    return _fail(invocation, _usage_error(exc, ctx))


def _usage_error(exc: TyperException, ctx: Any) -> UsageError:
    from ..errors import UsageError

    message = exc.format_message()
    where = ctx.command_path if ctx is not None else "backupshare"
    hint = f"see '{where} --help'"
    possible = getattr(exc, "possibilities", None)  # click's near misses of a mistyped option
    if possible and getattr(exc, "option_name", None):
        message = f"no such option: {exc.option_name}"  # type: ignore[attr-defined]
        near = " or ".join(repr(name) for name in sorted(possible)[:2])
        hint = f"did you mean {near}? {hint}"
    return UsageError(message[:1].lower() + message[1:], hint=hint)


def _fail(invocation: Invocation, error: BackupshareError) -> int:
    import contextlib

    with contextlib.suppress(BrokenPipeError):
        invocation.out().error(error)
    return error.exit_code


def _no_core_dumps() -> None:
    """A core dump of this process would hold tokens and keys in clear: none is written."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))


def _buffered_stdout() -> None:
    """Under `python -u` or PYTHONUNBUFFERED (common in containers) stdout writes straight to
    the raw file, and a short write to a pipe silently drops the rest of the text — so a big
    listing could be cut without an error. A buffered layer writes everything, or fails."""
    import io

    raw = getattr(sys.stdout, "buffer", None)
    if isinstance(raw, io.RawIOBase) and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(raw),
            encoding=sys.stdout.encoding,
            errors=sys.stdout.errors,
            line_buffering=sys.stdout.line_buffering,
        )


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:  # answered without loading Typer: scripts call this a lot
        from .about import version_text

        print(version_text())
        sys.exit(0)
    import signal

    _no_core_dumps()
    _buffered_stdout()
    signal.signal(signal.SIGTERM, _on_sigterm)
    invocation: Invocation | None = None
    try:
        invocation = _invocation()
        code, _ = _run(args, invocation)
    except KeyboardInterrupt:  # so early that run() had not yet taken over (imports)
        code = _interrupted(invocation) if invocation is not None else _interrupted_early()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = READER_GONE
    if code == READER_GONE:
        _silence_stdout()  # nothing more may reach the closed pipe, not even at exit
    # a second Ctrl-C: do not wait for requests still in flight
    if invocation is not None and invocation.abandoned_work:
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["COMPLETE_VAR", "main", "run"]
