"""backupshare: share cloud disk backups between projects (VBS backup sharing, CBR share
members) — a command line, and the library it is built on (docs/library.md).

The public names below load lazily (PEP 562): `import backupshare` imports nothing else (no
requests, rich, yaml or typer), so the command line starts fast and a library caller pays
only for what it uses. Everything not listed in `__all__` is internal and may change.
"""

from __future__ import annotations

# typing is not imported at run time (a few ms of `import backupshare`); type checkers read
# this name as typing's.
TYPE_CHECKING = False

__version__ = "0.1.0"

# name → the module that defines it; `from backupshare import X` loads that module then.
_PUBLIC = {
    "Client": "api",
    "Listing": "api",
    "Backup": "models",
    "Share": "models",
    "Result": "models",
    "ShareReport": "verbs.share",
    "CancelReport": "verbs.cancel",
    "ReceiveReport": "verbs.receive",
    "ApplyReport": "verbs.apply",
    "StalePlanError": "verbs.apply",
    "Plan": "verbs.plan",
    "PlanRow": "verbs.plan",
    "WaitTick": "verbs.wait",
    "Audited": "verbs.audit",
    "Finding": "verbs.audit",
    "BackupshareError": "errors",
    "UsageError": "errors",
    "ConfigError": "errors",
    "AuthError": "errors",
    "NotFoundError": "errors",
    "RejectedError": "errors",
    "PartialFailure": "errors",
    "UnavailableError": "errors",
    "TlsError": "errors",
    "UnexpectedResponse": "errors",
    "Interrupted": "errors",
    "AlreadySharedError": "errors",
    "ProjectLimitError": "errors",
    "BackupNotAvailableError": "errors",
    "EncryptedBackupError": "errors",
    "VaultError": "errors",
    "VaultFullError": "errors",
    "VaultTypeError": "errors",
    "BackupNotFoundError": "errors",
    "MemberNotFoundError": "errors",
    "WaitTimeoutError": "errors",
}
# The reports' names in the library; the verbs call them outcomes.
_RENAMED = {
    "ShareReport": "ShareOutcome",
    "CancelReport": "CancelOutcome",
    "ReceiveReport": "ReceiveOutcome",
    "ApplyReport": "ApplyOutcome",
}

__all__ = [
    "AlreadySharedError",
    "ApplyReport",
    "Audited",
    "AuthError",
    "Backup",
    "BackupNotAvailableError",
    "BackupNotFoundError",
    "BackupshareError",
    "CancelReport",
    "Client",
    "ConfigError",
    "EncryptedBackupError",
    "Finding",
    "Interrupted",
    "Listing",
    "MemberNotFoundError",
    "NotFoundError",
    "PartialFailure",
    "Plan",
    "PlanRow",
    "ProjectLimitError",
    "ReceiveReport",
    "RejectedError",
    "Result",
    "Share",
    "ShareReport",
    "StalePlanError",
    "TlsError",
    "UnavailableError",
    "UnexpectedResponse",
    "UsageError",
    "VaultError",
    "VaultFullError",
    "VaultTypeError",
    "WaitTick",
    "WaitTimeoutError",
    "__version__",
]  # every key of _PUBLIC, and the version (a test checks)

if TYPE_CHECKING:  # for type checkers only (`X as X`: a re-export); at run time, on first use
    from typing import Any

    from .api import Client as Client
    from .api import Listing as Listing
    from .errors import AlreadySharedError as AlreadySharedError
    from .errors import AuthError as AuthError
    from .errors import BackupNotAvailableError as BackupNotAvailableError
    from .errors import BackupNotFoundError as BackupNotFoundError
    from .errors import BackupshareError as BackupshareError
    from .errors import ConfigError as ConfigError
    from .errors import EncryptedBackupError as EncryptedBackupError
    from .errors import Interrupted as Interrupted
    from .errors import MemberNotFoundError as MemberNotFoundError
    from .errors import NotFoundError as NotFoundError
    from .errors import PartialFailure as PartialFailure
    from .errors import ProjectLimitError as ProjectLimitError
    from .errors import RejectedError as RejectedError
    from .errors import TlsError as TlsError
    from .errors import UnavailableError as UnavailableError
    from .errors import UnexpectedResponse as UnexpectedResponse
    from .errors import UsageError as UsageError
    from .errors import VaultError as VaultError
    from .errors import VaultFullError as VaultFullError
    from .errors import VaultTypeError as VaultTypeError
    from .errors import WaitTimeoutError as WaitTimeoutError
    from .models import Backup as Backup
    from .models import Result as Result
    from .models import Share as Share
    from .verbs.apply import ApplyOutcome as ApplyReport
    from .verbs.apply import StalePlanError as StalePlanError
    from .verbs.audit import Audited as Audited
    from .verbs.audit import Finding as Finding
    from .verbs.cancel import CancelOutcome as CancelReport
    from .verbs.plan import Plan as Plan
    from .verbs.plan import PlanRow as PlanRow
    from .verbs.receive import ReceiveOutcome as ReceiveReport
    from .verbs.share import ShareOutcome as ShareReport
    from .verbs.wait import WaitTick as WaitTick


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'backupshare' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), _RENAMED.get(name, name))
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
