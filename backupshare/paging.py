"""Paging: offset paging of listings, and the bounds (records and bytes) that stop a listing
that never ends.

Pure: no HTTP. A service module (vbs.py, cbr.py) hands `offset_pages` a function that fetches one
page; what a page is on the wire is the service module's, how pages add up to a listing is here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from .errors import UnexpectedResponse

# A listing is asked for the service's own count once it is this long; it may then run past
# that count by a margin (sharings come and go while it pages), and never past the hard cap.
COUNT_CHECK_AFTER = 1000
HARD_RECORD_CAP = 1_000_000
# A count is the server's word, and VBS's backups have none: the sum of a listing's page bodies
# bounds its memory whatever the server says (far above any real listing: ~2 kB a record).
LISTING_MAX_BYTES = 256 * 1024 * 1024


class ListingBound:
    """Stops a listing that runs past what the service itself says it holds, or past
    LISTING_MAX_BYTES of page bodies (`body_bytes`: how many it has read, Client.byte_counter)."""

    def __init__(
        self, count: Callable[[], int] | None, body_bytes: Callable[[], int] | None = None
    ) -> None:
        self._count = count
        self._limit: int | None = None
        self._body_bytes = body_bytes

    def check(self, records: int) -> None:
        if records > HARD_RECORD_CAP:
            raise self._endless(records, f"the hard limit of {HARD_RECORD_CAP:,}")
        size = self._body_bytes() if self._body_bytes else 0
        if size > LISTING_MAX_BYTES:
            raise UnexpectedResponse(
                f"unexpected response: the listing exceeds {mib(LISTING_MAX_BYTES)} "
                f"({records:,} records in {mib(size)} of pages)",
                hint="the service sends far more than a real listing holds; narrow it with "
                "filters or --limit, or report it to the provider",
            )
        if records <= COUNT_CHECK_AFTER or self._count is None:  # no count to ask: the cap
            return
        if self._limit is None:
            counted = self._count()
            self._limit = counted + max(COUNT_CHECK_AFTER, counted // 10)
        if records > self._limit:
            raise self._endless(records, f"the {self._limit:,} the service's count allows")

    @staticmethod
    def _endless(records: int, what: str) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"unexpected response: the listing did not end: {records:,} records, more than {what}",
            hint="the service keeps sending new pages; retry later or report it to the provider",
        )


class Record(Protocol):
    @property
    def id(self) -> str | None: ...


R = TypeVar("R", bound=Record)


def offset_pages(
    fetch: Callable[[int, int], list[R]],
    *,
    count: Callable[[], int] | None,
    keep: Callable[[R], bool],
    page_size: int = 100,
    limit: int | None = None,
    what: str = "records",
    log: Callable[[str], None] = lambda line: None,
    body_bytes: Callable[[], int] | None = None,
) -> Iterator[list[R]]:
    """Pages of records from `fetch(limit, offset)` until an empty page or `limit` records
    (a short page does not prove the end: a server may cap its pages). Every record is
    re-checked by `keep` (a server that ignores a filter must not make `share` or `cancel` act
    on another backup), each record comes once, and a listing that does not end (repeating
    pages, or far more records than `count` says) stops with an error instead of running, and
    growing, for ever."""
    bound = ListingBound(count, body_bytes)
    offset, received = 0, 0
    seen: set[str | None] = set()
    while limit is None or received < limit:
        want = page_size if limit is None else min(page_size, limit - received)
        page = fetch(want, offset)
        if not page:
            return
        fresh = [r for r in page if r.id not in seen]
        if not fresh:
            raise UnexpectedResponse(
                "unexpected response: the listing did not end: the service returned "
                f"{what} it had already listed at offset {offset}; it seems to ignore paging"
            )
        offset += len(page)
        bound.check(offset)
        seen.update(r.id for r in fresh)
        wanted = [r for r in fresh if keep(r)]
        if len(wanted) < len(fresh):
            log(f"dropped {len(fresh) - len(wanted)} records outside the filters")
        if limit is not None:
            wanted = wanted[: limit - received]
        received += len(wanted)
        if wanted:
            yield wanted


def mib(size: int) -> str:
    """A byte count as a person reads a bound: `256 MiB`, `0.01 MiB`."""
    return f"{size / (1024 * 1024):,.{0 if size % (1024 * 1024) == 0 else 2}f} MiB"
