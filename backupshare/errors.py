"""Our exceptions: each carries its exit code (docs/exit-codes.md), service details and a hint.

Errors are translated once, at the client boundary, into these classes; `cli` maps them to
exit codes through `exit_code` and nowhere else. They are public (docs/library.md): one class
per exit code, and below them the service's refusals callers branch on, chosen by the service
code in one table (SERVICE_CODES) for VBS and CBR alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BackupshareError(Exception):
    """Base of every error the tool reports to its user (never a bug)."""

    message: str
    hint: str | None = None
    status: int | None = None
    code: str | None = None
    request_ids: tuple[str, ...] = field(default_factory=tuple)
    client_request_id: str | None = None  # our X-Client-Request-Id, when a request was sent
    # A batch's report (share, cancel) when the error sums up several outcomes, for a library
    # caller who asked for an exception (raise_on_failure) but still wants every item's result.
    report: Any = field(default=None, repr=False, compare=False)

    exit_code = 1
    kind = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def request_id(self) -> str | None:
        return self.request_ids[0] if self.request_ids else None

    @property
    def service_code(self) -> str | None:
        """The service's own error code (`BackupService.6703`, `VolumeBackup.0204`, …)."""
        return self.code

    def headline(self, shown: Callable[[str], str] = str) -> str:
        """`WHAT (HTTP status, service code, request id)` — the one line of docs/exit-codes.md.
        `shown` makes each part safe to show (each is bounded on its own, so a long message
        never cuts the status and request ids off)."""
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code:
            details.append(shown(str(self.code)))
        details.extend(f"request id {shown(rid)}" for rid in self.request_ids)
        if self.client_request_id:
            details.append(f"client request id {shown(self.client_request_id)}")
        message = shown(self.message)
        return f"{message} ({', '.join(details)})" if details else message

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "message": self.message,
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
            "hint": self.hint,
        }


class UsageError(BackupshareError):
    exit_code = 2
    kind = "usage"


class ConfigError(BackupshareError):
    exit_code = 3
    kind = "config"


class AuthError(BackupshareError):
    exit_code = 4
    kind = "auth"


class NotFoundError(BackupshareError):
    exit_code = 5
    kind = "not_found"


class RejectedError(BackupshareError):
    """The service refused the request (400, 409 and other 4xx)."""

    exit_code = 6
    kind = "rejected"


class PartialFailure(BackupshareError):
    exit_code = 7
    kind = "partial"


class UnavailableError(BackupshareError):
    """Connection, TLS, timeout, 429/5xx after retries — and answers we cannot read."""

    exit_code = 8
    kind = "unavailable"


class TlsError(UnavailableError):
    """The endpoint's certificate was not trusted: a retry would meet the same certificate."""

    kind = "tls"


class UnexpectedResponse(UnavailableError):
    """A 2xx whose body is not what the API documents (a proxy page, a truncated body, ...)."""

    kind = "unexpected_response"


class Interrupted(BackupshareError):
    exit_code = 130
    kind = "interrupted"


def did_you_mean(value: str, choices: Any) -> str | None:
    """`did you mean 'x'?` for a near miss among `choices` (a mistyped option value, column,
    config key or backup name), else None."""
    import difflib

    close = difflib.get_close_matches(value, [str(c) for c in choices], n=2, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None


def invalid_choice(option: str, value: str, choices: Any) -> UsageError:
    """A value that is not one of `choices`: every choice named, the likely one suggested."""
    return UsageError(
        f"invalid {option} {value!r}: choose one of {', '.join(choices)}",
        hint=did_you_mean(value, choices),
    )


# -- the service's refusals callers branch on ---------------------------------------------------
class AlreadySharedError(RejectedError):
    """The backup is already shared with the project (share settles this by listing)."""


class ProjectLimitError(RejectedError):
    """The backup would be shared with more projects than the service allows."""


class BackupNotAvailableError(RejectedError):
    """The backup is not `available` (being made, or failed), so it cannot be shared yet."""


class EncryptedBackupError(RejectedError):
    """An encrypted backup: its KMS key must be granted to the receiving account first."""


class VaultError(RejectedError):
    """The vault cannot take the accepted backup."""


class VaultFullError(VaultError):
    pass


class VaultTypeError(VaultError):
    """The vault's resource type is not the backup's."""


class BackupNotFoundError(NotFoundError):
    pass


class MemberNotFoundError(NotFoundError):
    """The sharing (a CBR member, a VBS sharing) does not exist."""


@dataclass
class WaitTimeoutError(UnavailableError):
    """A wait ran out; `last_status` is what was last seen (the backup's status)."""

    last_status: str | None = None


# The one mapping from the services' codes to the classes above (docs/wire.md lists the codes;
# the VBS ones are the emulator's, docs/emulator.md, real VBS documents none). A code answered
# with an unexpected status keeps its status's class (responses._classify checks).
SERVICE_CODES: dict[str, type[BackupshareError]] = {
    "BackupService.6703": AlreadySharedError,
    "BackupService.6714": AlreadySharedError,
    "VolumeBackup.0107": AlreadySharedError,
    "BackupService.6701": ProjectLimitError,
    "VolumeBackup.0108": ProjectLimitError,
    "BackupService.6702": BackupNotAvailableError,
    "VolumeBackup.0104": BackupNotAvailableError,
    "BackupService.6709": EncryptedBackupError,
    "VolumeBackup.0105": EncryptedBackupError,
    "BackupService.6114": VaultFullError,
    "BackupService.6712": VaultError,
    "BackupService.6713": VaultTypeError,
    "BackupService.6200": BackupNotFoundError,
    "VolumeBackup.0204": BackupNotFoundError,
    "BackupService.6705": MemberNotFoundError,
    "VolumeBackup.0205": MemberNotFoundError,
}


class DifferencesFound(BackupshareError):
    """Not a failure to do something: what was read differs from what is wanted (audit's
    findings; a plan with changes pending)."""

    exit_code = 10
    kind = "differences"
