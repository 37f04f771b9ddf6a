"""What each command does, one module per verb family: share, cancel, find (listing and
looking up), receive (CBR offers), and batch (what share and cancel share). Each verb is a
request type and a run function over a service (service.py); no Typer, no terminal, no rich:
the CLI parses (cli/arguments.py) and renders, these decide and act, and the tests drive them
directly against the emulator."""
