"""Internal: what Client's verb families (the mixin modules _api_*.py) share — the listing type,
what each of them uses of Client, and how a report becomes an error."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import BackupshareError

if TYPE_CHECKING:
    from .service import SharingService
    from .verbs.batch import Outcome
    from .verbs.wait import Timing

LOG = logging.getLogger("backupshare")
# A library's convention: its records go where the application configures logging, never to
# logging's last-resort handler (a plain script would see every warning on stderr).
LOG.addHandler(logging.NullHandler())
T = TypeVar("T")
R = TypeVar("R", bound="Outcome")


class Listing(Generic[T]):
    """Every record of a listing, page after page, each page read when iteration reaches it
    (iterating again reads again). `pages()` gives the pages themselves."""

    def __init__(self, pages: Callable[[], Iterator[list[T]]]) -> None:
        self._pages = pages

    def __iter__(self) -> Iterator[T]:
        for page in self._pages():
            yield from page

    def pages(self) -> Iterator[list[T]]:
        return self._pages()


class ClientCore:
    """What a verb family uses of Client (api.py defines each): its project, its connection
    made on first use, its service's class (known before anything is sent) and its waits'
    timing. Declared for type checkers only."""

    if TYPE_CHECKING:

        @property
        def project_id(self) -> str: ...

        def _connected(self) -> SharingService: ...

        def _kind(self) -> type[SharingService]: ...

        def _timing(self) -> Timing: ...


def settled(outcome: R, raise_on_failure: bool) -> R:
    """The report, or with `raise_on_failure` the error it adds up to, carrying it. An
    interrupted run always raises (Interrupted, carrying the report): the caller's Ctrl-C
    must stop the script, as it would anywhere else."""
    raising = raise_on_failure or outcome.interrupted
    error: BackupshareError | None = outcome.error() if raising else None
    if error is not None:
        error.report = outcome
        raise error
    return outcome


def log_warning(message: str) -> None:
    LOG.warning("%s", message)


def ignore(*args: Any) -> None:
    pass
