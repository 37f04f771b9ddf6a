"""A local emulator of the VBS backup-sharing API and of IAM's token endpoints.

`start()` runs one in a background thread for tests; `python -m backupshare.emulator` and
`backupshare emulator` run one in the foreground.
"""

from .server import Emulator, EmulatorConfig, Fault, RunningEmulator, start
from .store import BackupSeed

__all__ = ["BackupSeed", "Emulator", "EmulatorConfig", "Fault", "RunningEmulator", "start"]
