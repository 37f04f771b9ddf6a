"""Every check of argv: the checks of backupshare/checks.py (shared with the library's Client),
re-exported under the name the commands use (`arguments.X`), and what only a command line has —
the files its options name (`-` meaning the Invocation's stdin) and -c's column names."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from .. import checks
from ..checks import (
    answer_request,
    check_confirmation,
    check_every_offer_confirmed,
    check_listing_selectors,
    check_paging,
    check_sharing_ids,
    concurrency_arg,
    demo_service,
    list_query,
    project_id_arg,
    selectors_arg,
    selectors_given,
    share_targets,
    uuid_arg,
    wait_accepted_arg,
)
from ..errors import UsageError, invalid_choice

if TYPE_CHECKING:
    from ..selectors import Selectors
    from ..verbs.audit import AuditRequest
    from ..verbs.cancel import CancelRequest
    from ..verbs.share import ShareRequest

# the checks of backupshare/checks.py the commands call as `arguments.X`, and this module's own
__all__ = [
    "IDS_FILE_SECONDS",
    "MAX_IDS_FILE_BYTES",
    "answer_request",
    "audit_request",
    "cancel_request",
    "check_confirmation",
    "check_every_offer_confirmed",
    "check_listing_selectors",
    "check_paging",
    "check_sharing_ids",
    "column_arg",
    "concurrency_arg",
    "demo_service",
    "list_query",
    "project_id_arg",
    "read_ids_file",
    "selectors_arg",
    "selectors_given",
    "share_request",
    "share_targets",
    "uuid_arg",
    "wait_accepted_arg",
]

MAX_IDS_FILE_BYTES = 1024 * 1024
# A FIFO or `<(command)` given as an ids file is read for at most this long, in all: a FIFO
# nobody writes to must not hang the CLI (like the attempt deadline of a request).
IDS_FILE_SECONDS = 60.0


def read_ids_file(
    name: str,
    stdin: IO[bytes] | None = None,
    *,
    option: str = "--projects-file",
    what: str = "project id",
) -> list[tuple[str, str]]:
    """(id, where) pairs from a file of ids (`-` = `stdin`, the Invocation's), one a line; `#`
    comments and blank lines ignored. `where` names the line, so a bad id is reported where it
    was written."""
    label = "standard input" if name == "-" else name
    try:
        if name == "-":
            if stdin is None:
                raise UsageError(f"{option} -: there is no standard input to read")
            raw = stdin.read(MAX_IDS_FILE_BYTES + 1)
        else:
            raw = _read_named(name, option)
    except FileNotFoundError:
        raise UsageError(f"{option} {name}: no such file") from None
    except PermissionError:
        raise UsageError(f"{option} {name}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{option} {name}: cannot be read: {exc.strerror}") from None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_IDS_FILE_BYTES:
        raise UsageError(f"{option} {label}: larger than 1 MiB; is it the right file?")
    if b"\x00" in raw:
        raise UsageError(f"{option} {label}: binary data, expected one {what} a line")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{option} {label}: not UTF-8 text") from None
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            ids.append((content, f" (line {number} of {label})"))
    return ids


def _read_named(name: str, option: str) -> bytes:
    """A file's bytes (at most MAX_IDS_FILE_BYTES + 1). Opened non-blocking, so a FIFO with no
    writer cannot hang the open; a FIFO, pipe (`<(...)`) or device is then read until its end
    or IDS_FILE_SECONDS, whichever comes first."""
    import os
    import stat

    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{option} {name}: is a directory")
        if stat.S_ISREG(mode):
            os.set_blocking(fd, True)
            with os.fdopen(os.dup(fd), "rb") as handle:
                return handle.read(MAX_IDS_FILE_BYTES + 1)
        return _read_until_deadline(fd, name, option)
    finally:
        os.close(fd)


def _read_until_deadline(fd: int, name: str, option: str) -> bytes:
    import os
    import selectors
    import time

    deadline = time.monotonic() + IDS_FILE_SECONDS
    chunks, size = [], 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while size <= MAX_IDS_FILE_BYTES:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise UsageError(
                    f"{option} {name}: not all of it arrived within {IDS_FILE_SECONDS:g} s",
                    hint="is something writing to it? a FIFO needs a writer that ends",
                )
            try:
                chunk = os.read(fd, 64 * 1024)
            except BlockingIOError:  # readable, then taken: wait again
                continue
            if not chunk:  # every writer has closed: the end
                break
            chunks.append(chunk)
            size += len(chunk)
    return b"".join(chunks)


def cancel_request(
    share_ids: list[str],
    ids_file: str | None,
    backup_id: str | None,
    to_projects: list[str],
    stdin: IO[bytes] | None = None,
    selectors: Selectors | None = None,
) -> CancelRequest:
    """cancel's checked request, its --ids-file read (nothing is sent)."""
    file_ids = None
    if ids_file:
        file_ids = read_ids_file(ids_file, stdin, option="--ids-file", what="sharing id")
    return checks.cancel_request(
        share_ids, backup_id, to_projects, file_ids=file_ids, selectors=selectors
    )


def share_request(
    backup: str | None,
    projects: list[str],
    *,
    projects_file: str | None,
    volume_id: str | None,
    most_recent: bool,
    wait: float | None,
    dry_run: bool,
    stdin: IO[bytes] | None = None,
    wait_accepted: float | None = None,
) -> ShareRequest:
    """share's checked request, --projects-file read in its turn (nothing is sent)."""

    def from_file() -> list[tuple[str, str]]:
        return read_ids_file(projects_file, stdin) if projects_file else []

    return checks.share_request(
        backup, projects, volume_id=volume_id, most_recent=most_recent, wait=wait,
        dry_run=dry_run, wait_accepted=wait_accepted, from_file=from_file,
    )  # fmt: skip


def audit_request(
    allowed: list[str],
    stdin: IO[bytes] | None,
    *,
    incoming: bool,
    max_pending_age: str,
    concurrency: int,
    selectors: Selectors,
) -> AuditRequest:
    """audit's checked request: an --allowed value that is not a project id is a file of them
    (`-`: stdin)."""

    def read_allowlist(name: str) -> list[tuple[str, str]]:
        return read_ids_file(name, stdin, option="--allowed", what="project id")

    return checks.audit_request(
        allowed, read_allowlist, incoming=incoming, max_pending_age=max_pending_age,
        concurrency=concurrency, selectors=selectors,
    )  # fmt: skip


def column_arg(value: str) -> str:
    """A -c name as the csv header spells it (case and dashes forgiven)."""
    from ..output.records import SHARE_COLUMNS

    name = value.strip().lower().replace("-", "_")
    if name not in SHARE_COLUMNS:
        raise invalid_choice("--column", value, SHARE_COLUMNS)
    return name
