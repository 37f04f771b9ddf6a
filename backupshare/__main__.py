"""`python -m backupshare`."""

from .cli import main

main()
