"""Owner-only files (the config file, cached tokens): read only when nobody else can change
them, written through a new temp file that only we can read, in a directory nobody else can
write. One place for what config_file.py and auth.py both need."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError


def check_owner_only(path: Path, info: os.stat_result) -> None:
    """Refuses a file, or a directory holding it, that someone other than its owner (or root)
    can change: its `*_command`s would run as us and its endpoints would receive our secrets."""
    me = os.getuid() if hasattr(os, "getuid") else 0
    if info.st_uid not in (me, 0):
        raise ConfigError(
            f"{path} belongs to another user (uid {info.st_uid}); refusing to use it",
            hint="use a config file you own",
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"{path} is writable by group or others (mode {stat.S_IMODE(info.st_mode):o}); "
            "refusing to use it",
            hint=f"run: chmod go-w {path}",
        )
    folder = path.absolute().parent
    try:
        parent = folder.stat()
    except OSError:
        return
    sticky = bool(parent.st_mode & stat.S_ISVTX)  # like /tmp: others cannot replace our file
    if parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
        raise ConfigError(
            f"{path} is in a directory writable by group or others ({folder}); refusing to use it",
            hint=f"run: chmod go-w {folder}",
        )


def write_private(path: Path, text: str) -> None:
    """Writes a config file (mode 0600); a directory that others can write is refused, with
    the command that fixes it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = path.parent.stat()
    sticky = bool(folder.st_mode & stat.S_ISVTX)
    if folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
        raise ConfigError(
            f"{path.parent} is writable by group or others; refusing to write a config there",
            hint=f"run: chmod go-w {path.parent}",
        )
    replace_privately(path, text)


def replace_privately(path: Path, text: str, prefix: str | None = None) -> None:
    """Replaces `path` with `text` through a new temp file beside it: created exclusively with
    a random name (mode 0600), so nothing planted there is written through; OSError as it
    comes (the caller knows whether a failure matters)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix or f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def private_dir(folder: Path) -> bool:
    """Whether only we (or root) own `folder` and nobody else can write it."""
    try:
        info = folder.stat()
    except OSError:
        return False
    return owned_by_us(info) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_private(path: Path, limit: int) -> bytes:
    """A cache file's bytes, if it is a regular file of ours that nobody else can read or write
    and at most `limit` bytes; OSError otherwise (a FIFO neither blocks nor is read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not owned_by_us(info):
            raise OSError(f"{path}: not a regular file of ours")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise OSError(f"{path}: others may read or write it")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise OSError(f"{path}: larger than a cache file can be")
    return raw


def owned_by_us(info: os.stat_result) -> bool:
    return info.st_uid in (os.getuid(), 0) if hasattr(os, "getuid") else True
