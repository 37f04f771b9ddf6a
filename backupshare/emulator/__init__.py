"""A local emulator of VBS backup sharing and its backup list, CBR's backups, share members and
vaults (any project id in the path), and IAM's token endpoints.

`start()` runs one in a background thread for tests; `python -m backupshare.emulator` and
`backupshare emulator` run one in the foreground.
"""

from .core import ProjectCredential
from .schema import BackupSeed
from .server import Emulator, EmulatorConfig, Fault, RunningEmulator, start

__all__ = [
    "BackupSeed",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "ProjectCredential",
    "RunningEmulator",
    "start",
]
