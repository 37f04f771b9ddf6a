"""A fan-out: one request (or a few) per backup, for many backups, concurrently — how the
project-wide verbs work on CBR, which has no project-wide list of sharings.

- `ordered(items, work, concurrency=8)` runs `work` over `items` (an iterator, consumed as it
  goes: a backup listing streamed page by page) with at most `concurrency` in flight, and
  yields the results in the items' order: reordered only within the window, so a streamed
  output keeps the listing's order. At most `2 * concurrency` results are held at once,
  whatever the number of items: memory stays bounded.
- One request budget: the workers share the service's one HTTP client, whose pause
  (pause.SharedPause) makes a 429 or 503 with Retry-After stop every worker for that long,
  not each on its own schedule; the retry rules stay per request (client.py).
- An error in `work` ends the fan-out with that error (what is in flight is let finish,
  nothing new starts); a caller that reports per item (cancel) catches inside `work`.
- `stop` (verbs.batch.Interrupt, Ctrl-C as a flag): nothing new starts once it is raised,
  and the iteration ends after what is in flight (`stopped` says so).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .batch import Interrupt

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_CONCURRENCY = 8


class FanOut:
    """`for result in FanOut(...)`: the results in order; `stopped` after an interrupt."""

    def __init__(
        self,
        items: Iterable[T],
        work: Callable[[T], R],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        stop: Interrupt | None = None,
    ) -> None:
        self._items: Iterator[T] = iter(items)
        self._work: Callable[[T], R] = work
        from .batch import Interrupt

        self.concurrency = max(1, concurrency)
        self.stop = stop or Interrupt()
        self.stopped = False

    def __iter__(self) -> Iterator[R]:
        # concurrent.futures (and its logging) loads only when a fan-out runs: the modules that
        # import this one for DEFAULT_CONCURRENCY are on list-shares' start-up path
        from concurrent.futures import ThreadPoolExecutor

        window = 2 * self.concurrency  # finished results waiting for an earlier one, at most
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="fanout")
        pending: deque[Future[R]] = deque()
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < window and not self.stop.raised:
                    item = next(self._items, _END)
                    if item is _END:
                        exhausted = True
                        break
                    pending.append(pool.submit(self._work, item))  # type: ignore[arg-type]
                if not pending:
                    break
                yield pending.popleft().result()  # in order: waits for the oldest
            self.stopped = self.stop.raised and not exhausted
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=self.stop.count < 2, cancel_futures=True)


_END = object()


def ordered(
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    stop: Interrupt | None = None,
) -> Iterator[R]:
    """`work` over `items`, concurrently, the results in the items' order (see FanOut)."""
    return iter(FanOut(items, work, concurrency=concurrency, stop=stop))
