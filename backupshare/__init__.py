"""backupshare: share cloud disk backups between projects (VBS backup sharing)."""

__version__ = "0.1.0"
