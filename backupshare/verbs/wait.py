"""Waiting: polls with backoff and jitter until what is awaited is settled or the deadline
passes, and says how it goes as WaitTicks to whoever listens (the CLI: a live line on a
terminal, timestamped lines in a CI log). Time is injected: a test drives it, nothing sleeps."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

WAIT_FIRST = 1.0  # the first pause between polls (seconds); it doubles up to WAIT_CAP
WAIT_CAP = 30.0


@dataclass(frozen=True)
class WaitTick:
    """One look at what is awaited: `subject` waits in `status`, `elapsed` of `total` seconds
    gone. `ended`: the last look (settled, or time ran out)."""

    subject: str  # "backup B", "project P to accept backup B"
    status: str
    elapsed: float
    total: float
    ended: bool = False


def ignore_tick(tick: WaitTick) -> None:
    """The default listener: nobody is told."""


@dataclass
class Timing:
    """The clock a wait reads and how it pauses; the real ones unless a caller (a test, the
    CLI's Invocation) hands in its own. Looked up at each call, so a patched time.monotonic
    is seen too."""

    sleep: Callable[[float], None] = field(default=lambda seconds: time.sleep(seconds))
    clock: Callable[[], float] = field(default=lambda: time.monotonic())
    jitter: Callable[[], float] = field(default=lambda: random.random())
    first: float = WAIT_FIRST  # the first pause; the library's fixed `interval` sets both
    cap: float = WAIT_CAP


class Deadline:
    """A wait's deadline and its backoff: pauses of `first` doubling to `cap` (WAIT_FIRST,
    WAIT_CAP unless the Timing says otherwise), each
    between half and all of that (jitter, so many waiting clients do not poll in step),
    never past the deadline."""

    def __init__(self, seconds: float, timing: Timing) -> None:
        self.seconds, self.timing = seconds, timing
        self.started = timing.clock()
        self.delay = timing.first

    @property
    def elapsed(self) -> float:
        return self.timing.clock() - self.started

    @property
    def passed(self) -> bool:
        return self.elapsed >= self.seconds

    def pause(self) -> None:
        left = self.seconds - self.elapsed
        self.timing.sleep(max(0.0, min(left, self.delay * (0.5 + self.timing.jitter() / 2))))
        self.delay = min(self.timing.cap, self.delay * 2)

    def tick(self, subject: str, status: str, *, ended: bool = False) -> WaitTick:
        return WaitTick(subject, status, self.elapsed, self.seconds, ended)
