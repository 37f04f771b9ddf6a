"""backupshare: share cloud disk backups between projects (VBS backup sharing, CBR share
members)."""

__version__ = "0.1.0"
