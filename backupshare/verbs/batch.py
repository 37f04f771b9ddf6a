"""What share and cancel share: per-item outcomes and the one error they add up to, and the
batch runner (bounded concurrency, Ctrl-C as a flag a batch polls, every item accounted for)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from ..errors import (
    BackupshareError,
    Interrupted,
    PartialFailure,
)
from ..models import (
    RESULT_CANCELED,
    RESULT_CREATED,
    RESULT_FAILED,
    RESULT_SKIPPED,
    Result,
    Share,
)

if TYPE_CHECKING:
    pass


@dataclass
class Outcome:
    """Per-item results of share or cancel, and the one error they add up to (if any)."""

    results: list[Result]
    client_request_id: str | None = None
    # by Ctrl-C or SIGTERM: the results say what happened to each (keyword-only: the
    # subclasses' own fields keep their places)
    interrupted: bool = field(default=False, kw_only=True)
    what: ClassVar[str] = "item"

    @property
    def changed(self) -> bool:
        return any(r.result in (RESULT_CREATED, RESULT_CANCELED) for r in self.results)

    def error(self) -> BackupshareError | None:
        if self.interrupted:  # exit 130 whatever the items say: the run did not finish
            return Interrupted(
                "interrupted", hint="the report shows what happened to each; re-run to finish"
            )
        error = batch_error(self.results, self.what)
        if error is not None:
            error.client_request_id = self.client_request_id
        return error


def cancel_result(
    share_id: str, share: Share | None, result: str, error: BackupshareError | None = None
) -> Result:
    """One sharing's result; whose it was is known only when listing found it."""
    return Result(
        share.backup_id if share else None,
        share.to_project_id if share else None,
        share_id,
        result,
        error,
    )


class Interrupt:
    """Ctrl-C (or SIGTERM) as a flag a batch polls, instead of an exception that could land
    anywhere — so the report is always complete. Raised once: finish what is in flight;
    twice: stop waiting."""

    def __init__(self) -> None:
        self.count = 0
        self.abandoned = False  # requests left running after a second interrupt

    def raise_(self) -> None:
        self.count += 1

    @property
    def raised(self) -> bool:
        return self.count > 0


@contextmanager
def caught_interrupts() -> Iterator[Interrupt]:
    """The library's latch (the CLI has its own, cli/invocation.py): within, a script's Ctrl-C
    raises the batch's flag instead of a KeyboardInterrupt that would leave the workers running
    the batch to its end and the caller with no report. Only in the main thread, and only while
    SIGINT has Python's default handler (a caller's own handler is theirs); restored after."""
    import signal
    import threading

    stop = Interrupt()
    in_main = threading.current_thread() is threading.main_thread()
    if not in_main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.raise_())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def run_batch(
    items: list[str],
    work: Callable[[str], Result],
    *,
    concurrency: int,
    on_done: Callable[[], None],
    stop: Interrupt,
    known: dict[str, Share] | None = None,
) -> list[Result]:
    """Runs `work` over items with bounded concurrency; results in input order, every item
    accounted for: done, `skipped` (never started because of an interrupt) or, after a second
    interrupt, `failed` with an unknown outcome (abandoned in flight)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    known = known or {}
    results: dict[str, Result] = {}

    def guarded(item: str) -> Result:
        if stop.raised:
            return cancel_result(item, known.get(item), RESULT_SKIPPED)
        return work(item)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="batch")
    futures: dict[Future[Result], str] = {pool.submit(guarded, item): item for item in items}
    pending = set(futures)
    while pending and stop.count < 2:
        try:
            done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                results[futures[future]] = future.result()  # recorded before it leaves pending
                pending.discard(future)
                on_done()
        except KeyboardInterrupt:  # a caller's own SIGINT handler raised it: the flag all the same
            stop.raise_()
    for future in pending:  # abandoned after a second interrupt
        item = futures[future]
        if future.cancel() or not future.running():
            results[item] = cancel_result(item, known.get(item), RESULT_SKIPPED)
        else:
            unknown = Interrupted("interrupted while in flight; its outcome is unknown")
            results[item] = cancel_result(item, known.get(item), RESULT_FAILED, unknown)
    stop.abandoned = bool(pending)
    pool.shutdown(wait=not pending, cancel_futures=True)
    return [results[item] for item in items]


def batch_error(results: list[Result], what: str) -> BackupshareError | None:
    """None when nothing failed; the failure's own class when everything did; else partial."""
    failed = [r for r in results if r.result == RESULT_FAILED]
    if not failed:
        return None
    if len(failed) < len(results):
        return PartialFailure(
            f"{len(failed)} of {len(results)} {what}s failed",
            hint="the results show each item; re-running retries only what is missing",
        )
    first = failed[0].error or BackupshareError("no reason given")
    return replace(first, message=f"every {what} failed: {first.message}")
