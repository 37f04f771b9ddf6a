"""The invocation: one run's options, settings and service, and its door to the terminal."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, TextIO

from ..config import GRAPH_FORMAT, OUTPUT_FORMATS, Flags
from ..errors import invalid_choice

if TYPE_CHECKING:
    from ..api import Client
    from ..config import Settings
    from ..output import Output
    from ..verbs.batch import Interrupt


class Invocation:
    """One run of the CLI: the global options, what was built from them, and the only door to
    the terminal and the environment (streams, prompts, NO_COLOR, FORCE_COLOR,
    BACKUPSHARE_OUTPUT): nothing else in the package reads them. `run()` makes one per
    invocation and hands it to Typer as the root context's `obj`; every command receives it as
    its first argument (see options.with_common_options). Tests may pass their own, e.g. with
    a `sleep` that does not wait, or a `stdin` to read. (A plain class: a dataclass costs
    ≈ 0.5 ms to define, on every command.)"""

    def __init__(
        self,
        flags: Flags | None = None,
        no_color: bool = False,
        quiet: bool = False,
        csv_safe: bool = False,
        abandoned_work: bool = False,  # threads left running after a second Ctrl-C: exit at once
        resolved: Settings | None = None,
        output: Output | None = None,
        sleep: Callable[[float], None] = time.sleep,  # between retries, and a wait's polls
        # A wait's clock (looked up at each call: a patched time.monotonic is seen) and the
        # wall clock its CI-log lines are stamped with; a test hands in its own.
        clock: Callable[[], float] = lambda: time.monotonic(),
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        stdin: TextIO | None = None,  # ids files (`-`) and answers; sys.stdin when None
        stderr: TextIO | None = None,  # notices, prompts, errors; sys.stderr when None
        env: Mapping[str, str] | None = None,  # os.environ when None
    ) -> None:
        self.flags = flags if flags is not None else Flags()
        self.no_color, self.quiet, self.csv_safe = no_color, quiet, csv_safe
        self.abandoned_work, self.resolved, self.output = abandoned_work, resolved, output
        self.sleep, self.clock, self.now = sleep, clock, now
        self.stdin: TextIO = stdin if stdin is not None else sys.stdin
        self.stderr: TextIO = stderr if stderr is not None else sys.stderr
        self.env: Mapping[str, str] = env if env is not None else os.environ
        # Read from `env` once, when the invocation starts.
        self.env_no_color = bool(self.env.get("NO_COLOR"))
        self.force_color = bool(self.env.get("FORCE_COLOR"))
        self.env_output = self.env.get("BACKUPSHARE_OUTPUT") or None

    def remember(self, values: dict[str, Any]) -> None:
        """Merges options given at one level (before or after the command's name)."""
        if values.get("output") is not None and values["output"] not in RUN_FORMATS:
            raise invalid_choice("--output", values["output"], RUN_FORMATS)
        # `is`, not `in`: 0 == False, and `--retries 0` is a value, not an absent flag.
        given = {
            k: v for k, v in values.items() if k in FLAG_NAMES and v is not None and v is not False
        }
        self.flags = replace(self.flags, **given)
        self.no_color = self.no_color or bool(values.get("no_color"))
        self.quiet = self.quiet or bool(values.get("quiet"))
        self.csv_safe = self.csv_safe or bool(values.get("csv_safe"))
        self._update_output()

    def settings(self) -> Settings:
        """The profile's settings, resolved once (their warnings said once)."""
        if self.resolved is None:
            from ..resolution import load_settings

            self.resolved = load_settings(self.flags, self.env)
            self._update_output()  # the profile's `output:`, for an Output taken before, too
            for warning in self.resolved.warnings:
                self.out().warning(warning)
        return self.resolved

    def client(self, pool_size: int = 8) -> Client:
        """The library's Client for the profile's service (connected on its first call), the
        one door every command's verb goes through: with --debug's log, this run's sleep and
        its waits' clock."""
        current = self.settings()
        log = self.debug_logger() if current.debug else None
        from ..api import Client

        return Client._for_settings(
            current, log=log, pool_size=pool_size, sleep=self.sleep, clock=self.clock
        )

    @contextmanager
    def interrupt_latch(self) -> Iterator[Interrupt]:
        """Within: Ctrl-C and SIGTERM raise a flag the batch polls instead of an exception, so
        no interrupt can land between the work and its report (see verbs.batch.Interrupt)."""
        import signal
        import threading

        from ..verbs.batch import Interrupt

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
        """The renderer, one per invocation: taken before the settings are known, it follows
        -o or BACKUPSHARE_OUTPUT, and then the settings (a profile's `output:`) all the same."""
        if self.output is None:
            from ..output import Output

            self.output = Output(
                self._output_format(),
                quiet=self.quiet,
                no_color=self.no_color or self.env_no_color,
                force_color=self.force_color,
                csv_safe=self.csv_safe,
                stderr=self.stderr,
            )
        return self.output

    def _output_format(self) -> str:
        if self.flags.output == GRAPH_FORMAT or (
            not self.flags.output and self.env_output == GRAPH_FORMAT
        ):
            return GRAPH_FORMAT  # a run's choice (flag or environment), never a profile's
        fmt = self.resolved.output if self.resolved else self.flags.output
        fmt = fmt or self.env_output or "table"
        return fmt if fmt in OUTPUT_FORMATS else "table"

    def wants_graph(self) -> bool:
        """`-o dot`: the sharing graph (list-shares across the project, audit)."""
        return self._output_format() == GRAPH_FORMAT

    def _update_output(self) -> None:
        """Options given after the command's name, or the settings, change the one Output."""
        if self.output is not None:
            self.output.quiet = self.quiet
            self.output.no_color = self.no_color or self.env_no_color
            self.output.csv_safe = self.csv_safe
            self.output.use_format(self._output_format())

    # -- the terminal ------------------------------------------------------------------------
    def stdin_bytes(self) -> IO[bytes] | None:
        """Standard input as bytes, for an ids file read from `-` (None: there is none)."""
        return getattr(self.stdin, "buffer", None)

    def can_prompt(self) -> bool:
        """May we ask a person? Only the terminal decides (NO_COLOR is about colour, not
        prompts): standard input and standard error both a terminal."""
        return self.stdin.isatty() and self.stderr.isatty()

    def say(self, line: str) -> None:
        """A line for the person at the terminal (stderr: stdout is data)."""
        print(line, file=self.stderr)

    def ask(self, question: str, default: str | None = None, *, secret: bool = False) -> str:
        """An answer typed at the terminal (`default` when it is left empty); a secret is not
        echoed. End of input is EOFError."""
        suffix = f" [{default}]" if default else ""
        if secret:
            import getpass

            answer = getpass.getpass(f"{question}{suffix}: ", stream=self.stderr)
        else:
            answer = self._read_answer(f"{question}{suffix}: ")
            if not answer:
                raise EOFError
        return answer.strip() or (default or "")

    def confirm(self, question: str) -> bool:
        """Yes only for `y` or `yes`; anything else, end of input included, is no."""
        answer = self._read_answer(f"{question} [y/N] ")
        return answer.strip().lower() in ("y", "yes")

    def _read_answer(self, prompt: str) -> str:
        self.stderr.write(prompt)  # the prompt goes to stderr: stdout is data
        self.stderr.flush()
        return self.stdin.readline()

    def debug_logger(self) -> Callable[[str], None]:
        from ..output.escaping import printable

        def log(line: str) -> None:
            print(f"debug: {printable(line)}", file=self.stderr)

        return log


FLAG_NAMES = {f.name for f in fields(Flags)}
RUN_FORMATS = (*OUTPUT_FORMATS, GRAPH_FORMAT)  # what -o may say
