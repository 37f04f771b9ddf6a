"""How a wait talks (--wait, --wait-accepted): on a terminal, a status line each time what is
awaited changes; anywhere else (a CI log), a plain timestamped line when the wait starts, every
30 s while it lasts and when it ends, also when time runs out. -q silences both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from ..output import Output
from ..verbs.wait import WaitTick

LOG_EVERY = 30.0  # seconds between two CI-log lines about one thing awaited


class WaitTalk:
    """The listener a verb's wait is handed (WaitTick by WaitTick)."""

    def __init__(self, out: Output, now: Callable[[], datetime]) -> None:
        self.out, self.now = out, now
        self.logged: dict[str, float] = {}  # subject → elapsed seconds at its last CI line
        self.shown: dict[str, str] = {}  # subject → status last shown on the terminal

    def __call__(self, tick: WaitTick) -> None:
        if self.out.quiet:
            return
        if self.out.interactive_stderr:
            self._terminal(tick)
        else:
            self._log(tick)

    def _terminal(self, tick: WaitTick) -> None:
        if tick.ended or self.shown.get(tick.subject) == tick.status:
            return
        self.shown[tick.subject] = tick.status
        self.out.notice(f"waiting for {tick.subject}: {tick.status}")

    def _log(self, tick: WaitTick) -> None:
        last = self.logged.get(tick.subject)
        if last is not None and not tick.ended and tick.elapsed - last < LOG_EVERY:
            return
        self.logged[tick.subject] = tick.elapsed
        stamp = self.now().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.out.notice(
            f"{stamp} waiting for {tick.subject}: {tick.status}, "
            f"{tick.elapsed:.0f} s of {tick.total:g} s"
        )
