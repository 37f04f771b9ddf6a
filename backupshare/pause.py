"""One request budget for every thread of an invocation: when the service answers 429 or 503
with Retry-After, every request of the run waits that long (client.py holds one SharedPause and
consults it before each attempt), so the workers of a fan-out (verbs/fanout.py) do not hammer a
throttled service each on its own schedule. Pure: no HTTP; sleep and clock are injected."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SharedPause:
    """A pause every thread of one client keeps before sending: the Retry-After of a 429 or
    503 is the service's budget for the whole run, not for one worker. Each thread waits out
    each pause once (the one that met the answer, the length it asked; the others, what is
    left of it). `sleep` is the client's (tests record it); `clock` a monotonic one."""

    def __init__(
        self, sleep: Callable[[float], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._until = 0.0
        self._generation = 0  # which pause: a thread waits each one out once
        self._waited = threading.local()

    def hold(self, seconds: float) -> None:
        """Pauses every thread for `seconds` from now (a longer pause held already stays),
        and waits it out in this one."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._until:
                self._until = until
                self._generation += 1
            generation = self._generation
        self._sleep(seconds)
        self._waited.generation = generation

    def wait(self) -> None:
        """Returns once no pause this thread has not waited out is held."""
        while True:
            with self._lock:
                remaining, generation = self._until - self._clock(), self._generation
            if remaining <= 0 or getattr(self._waited, "generation", 0) == generation:
                return
            self._sleep(remaining)
            self._waited.generation = generation
