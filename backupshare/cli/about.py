"""What `--version` prints, and with `--verbose` what a bug report needs; the name of the
variable shell completion answers to.

Versions come from the installed distributions' metadata, so nothing here imports the
libraries it names (startup stays light, see benchmarks/).
"""

from __future__ import annotations

from .. import __version__

# Set by a shell asking for completion candidates (the scripts `completion SHELL` prints set it).
COMPLETE_VAR = "_BACKUPSHARE_COMPLETE"

# Distribution names, as pip lists them.
DEPENDENCIES = ("typer", "requests", "rich", "PyYAML")


def version_text(verbose: bool = False) -> str:
    """`backupshare X.Y.Z`; verbose adds the Python, the platform and the dependencies."""
    lines = [f"backupshare {__version__}"]
    if verbose:
        import platform
        import sys
        from importlib import metadata

        python = f"{platform.python_version()} ({platform.python_implementation()})"
        lines += [f"python    {python} {sys.executable}", f"platform  {platform.platform()}"]
        for name in DEPENDENCIES:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                version = "not installed"
            lines.append(f"{name:<9} {version}")
    return "\n".join(lines)
