"""Sharings files: the desired sharings, as code (docs/sharings.md).

    version: 1
    groups: {dr: [PROJECT_ID, …]}
    sharings:
      - name: nightly-db          # optional label
        profile: prod             # optional: the owner project's profile
        backups: {volume_id: V, newest: 1}    # or {id: B}
        to: [dr, PROJECT_ID]
        mode: exact               # additive (default) | exact

`read_sharings(name, stdin, now=…)` reads FILE (or `-`, standard input) into a SharingsFile of
typed Entries. Every problem is a ConfigError (exit 3) naming `FILE:LINE` and the key, found
before any request is sent: a typo must never prune. Pure: no HTTP; YAML through
config_file.parse_yaml (the safe loader, line numbers, no duplicate keys).
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from .errors import ConfigError
from .models import normalize_project_id, normalize_uuid
from .selectors import InvalidSelector, Selectors

MAX_FILE_BYTES = 1024 * 1024  # a policy for thousands of volumes fits in far less
MAX_ENTRIES = 10_000
MAX_NEWEST = 10_000
MAX_LABEL = 255
VERSION = 1
MODE_ADDITIVE, MODE_EXACT = "additive", "exact"
TOP_KEYS = ("version", "groups", "sharings")
ENTRY_KEYS = ("name", "profile", "backups", "to", "mode")
FILTER_KEYS = ("name", "name_prefix", "volume_id", "vault_id", "created_after", "created_before")
SELECTOR_KEYS = ("id", "newest", *FILTER_KEYS)


@dataclass(frozen=True)
class BackupSelector:
    """`id`: one backup, whatever its status; else `filters` (available backups only), the
    newest `newest` of them — per volume when the filters name volumes, overall otherwise."""

    backup_id: str | None = None
    filters: Selectors | None = None
    newest: int | None = None

    @property
    def per_volume(self) -> bool:
        return self.filters is not None and bool(self.filters.volume_ids)


@dataclass(frozen=True)
class Entry:
    """One item of `sharings:`; `where` is `FILE:LINE` of the item, for messages."""

    index: int
    label: str
    profile: str | None
    selector: BackupSelector
    to: tuple[str, ...]
    exact: bool
    where: str
    profile_where: str | None = None  # `FILE:LINE` of its `profile:` key, for messages

    @property
    def mode(self) -> str:
        return MODE_EXACT if self.exact else MODE_ADDITIVE


@dataclass(frozen=True)
class SharingsFile:
    source: str  # the file's name as given (`-`: standard input)
    entries: tuple[Entry, ...]


def read_sharings(name: str, stdin: IO[bytes] | None, *, now: datetime) -> SharingsFile:
    """FILE or `-` (standard input), read, bounded and checked."""
    shown = "<stdin>" if name == "-" else name
    return parse_sharings(read_bounded(name, stdin, shown), shown, now=now)


def read_bounded(
    name: str,
    stdin: IO[bytes] | None,
    shown: str,
    *,
    limit: int = MAX_FILE_BYTES,
    what: str = "sharings file",
    flag: str = "-f",
) -> str:
    """The text of FILE or `-`, at most `limit` bytes, UTF-8, no NUL: else a ConfigError
    saying which file (`what`: a sharings file, a plan) and why. One reader for both."""
    if name == "-":
        if stdin is None:
            raise ConfigError(f"{flag} -: there is no standard input to read")
        raw = stdin.read(limit + 1)
    else:
        path = Path(name)
        if path.is_dir():
            raise ConfigError(f"{shown}: is a directory, not a {what}")
        try:
            with path.open("rb") as handle:
                raw = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"{shown}: cannot read the {what}: {exc.strerror}") from None
    if len(raw) > limit:
        size = f"{limit // 2**20} MiB" if limit > 2**20 else f"{limit // 1024} KiB"
        raise ConfigError(f"{shown}: larger than {size}: not a {what}")
    from .config_file import text_of

    return text_of(raw, shown)


def parse_sharings(text: str, source: str, *, now: datetime) -> SharingsFile:
    """The text of a sharings file, checked (see the module's docstring)."""
    from .config_file import LineDict, parse_yaml

    data = parse_yaml(text, Path(source))
    if not isinstance(data, LineDict):
        raise ConfigError(
            f"{source}:1: the file must be a mapping with 'version' and 'sharings'",
            hint="see `backupshare help commands` (plan) or docs/sharings.md",
        )
    reader = _Reader(source)
    reader.known_keys(data, TOP_KEYS, "the file")
    version = data.get("version")
    if "version" not in data:
        raise ConfigError(f"{source}:{data.line}: version: missing (write `version: 1`)")
    if isinstance(version, bool) or version != VERSION:
        raise reader.error(data, "version", f"unknown version {_shown(version)}: this tool reads 1")
    groups = reader.groups(data)
    items = data.get("sharings")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise reader.error(data, "sharings", "must be a list of entries")
    if len(items) > MAX_ENTRIES:
        raise reader.error(data, "sharings", f"more than {MAX_ENTRIES:,} entries")
    line = data.lines.get("sharings", data.line)
    entries = tuple(
        reader.entry(index, item, groups, line, now) for index, item in enumerate(items)
    )
    return SharingsFile(source, entries)


class _Reader:
    """Checks one file's parts, every error naming `FILE:LINE` and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def at(self, line: int) -> str:
        return f"{self.source}:{line}"

    def error(self, mapping: Any, key: str, message: str, hint: str | None = None) -> ConfigError:
        line = mapping.lines.get(key, mapping.line)
        return ConfigError(f"{self.at(line)}: {key}: {message}", hint=hint)

    def known_keys(self, mapping: Any, known: tuple[str, ...], what: str) -> None:
        import difflib

        for key in mapping:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                raise self.error(mapping, key, f"unknown key in {what}", hint=hint)

    def groups(self, data: Any) -> dict[str, tuple[str, ...]]:
        from .config_file import LineDict

        groups = data.get("groups")
        if groups is None:
            return {}
        if not isinstance(groups, LineDict):
            raise self.error(data, "groups", "must be a mapping of group names to project ids")
        checked: dict[str, tuple[str, ...]] = {}
        for name, members in groups.items():
            if not name.strip() or len(name) > MAX_LABEL:
                raise self.error(groups, name, "a group name must be short, non-empty text")
            if normalize_project_id(name) is not None:
                raise self.error(groups, name, "a group name must not look like a project id")
            if not isinstance(members, list):
                raise self.error(groups, name, "must be a list of project ids")
            if not members:  # only a literal `to: []` may mean "shared with no project"
                raise self.error(
                    groups,
                    name,
                    "an empty group: list its project ids, or remove it",
                    hint="`mode: exact` with `to: []` is how to end every sharing of a selection",
                )
            checked[name] = tuple(self.project_id(groups, name, member) for member in members)
        return checked

    def project_id(self, mapping: Any, key: str, value: Any) -> str:
        canonical = normalize_project_id(value) if isinstance(value, str) else None
        if canonical is None:
            raise self.error(
                mapping, key, f"invalid project id {_shown(value)}: expected 32 hex characters"
            )
        return canonical

    def entry(
        self, index: int, item: Any, groups: dict[str, tuple[str, ...]], line: int, now: datetime
    ) -> Entry:
        from .config_file import LineDict

        if not isinstance(item, LineDict):
            raise ConfigError(
                f"{self.at(line)}: sharings[{index}]: each entry must be a mapping "
                "(backups, to, and optionally name, profile, mode)"
            )
        what = f"sharings[{index}]"
        self.known_keys(item, ENTRY_KEYS, what)
        label = self.text(item, "name") if "name" in item else what
        profile = self.text(item, "profile") if "profile" in item else None
        mode = item.get("mode", MODE_ADDITIVE)
        if mode not in (MODE_ADDITIVE, MODE_EXACT):
            raise self.error(item, "mode", f"{_shown(mode)}: must be additive or exact")
        exact = mode == MODE_EXACT
        if "backups" not in item:
            raise ConfigError(f"{self.at(item.line)}: {what}: backups: missing (a selector)")
        selector = self.selector(item, now)
        to = self.targets(item, groups, exact, what)
        profile_where = self.at(item.lines["profile"]) if profile is not None else None
        return Entry(index, label, profile, selector, to, exact, self.at(item.line), profile_where)

    def text(self, mapping: Any, key: str) -> str:
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_LABEL:
            raise self.error(mapping, key, f"{_shown(value)}: expected short, non-empty text")
        if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in value):
            raise self.error(mapping, key, "control characters are not allowed")
        return value

    def selector(self, item: Any, now: datetime) -> BackupSelector:
        from .config_file import LineDict

        given = item.get("backups")
        if not isinstance(given, LineDict):
            raise self.error(item, "backups", "must be a mapping: `id`, or filters with `newest`")
        self.known_keys(given, SELECTOR_KEYS, "backups")
        for key, value in given.items():
            self.given_value(given, key, value)
        filters = {key: value for key, value in given.items() if key in FILTER_KEYS}
        newest = self.newest(given) if "newest" in given else None
        if "id" in given:
            if filters or newest is not None:
                beside = next(iter([*filters, "newest"]))
                raise self.error(given, beside, "`id` selects one backup: no filters beside it")
            backup_id = normalize_uuid(given["id"]) if isinstance(given["id"], str) else None
            if backup_id is None:
                raise self.error(given, "id", f"invalid backup id {_shown(given['id'])}")
            return BackupSelector(backup_id=backup_id)
        if not filters:
            raise self.error(
                item, "backups", "no selector: give `id`, or filters (volume_id, name, …)"
            )
        try:
            selectors = Selectors.from_dict(filters, now=now)
        except InvalidSelector as exc:
            key = exc.key if exc.key in given else next(iter(filters))
            raise self.error(given, key, exc.message) from None
        if selectors == Selectors():  # defence in depth: a selector never means "everything"
            raise self.error(item, "backups", "the filters select nothing in particular")
        return BackupSelector(filters=selectors, newest=newest)

    def given_value(self, given: Any, key: str, value: Any) -> None:
        """A selector's value must say something: blank, `~`, `null` or `[]` (an unset template
        variable, say) would otherwise drop the filter and widen the selection to every backup."""
        if value is None or (isinstance(value, (list, str)) and not value):
            shown = "[]" if isinstance(value, list) else "empty"
            raise self.error(
                given,
                key,
                f"{shown} value: give one, or remove the key",
                hint="a blank filter would select every backup; nothing was sent",
            )
        if key in ("name", "name_prefix") and _is_number(value):
            raise self.error(
                given, key, f"{_shown(value)} is a number: quote it ('{value}') to match a name"
            )

    def newest(self, given: Any) -> int:
        value = given["newest"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NEWEST:
            raise self.error(given, "newest", f"{_shown(value)}: a whole number, 1 to {MAX_NEWEST}")
        return value

    def targets(
        self, item: Any, groups: dict[str, tuple[str, ...]], exact: bool, what: str
    ) -> tuple[str, ...]:
        if "to" not in item:
            raise ConfigError(f"{self.at(item.line)}: {what}: to: missing (projects or groups)")
        given = item["to"]
        if isinstance(given, str):
            given = [given]
        if not isinstance(given, list):
            raise self.error(item, "to", "must be a list of group names and project ids")
        projects: list[str] = []
        for name in given:
            projects += self.target(item, name, groups)
        if not projects and not exact:
            raise self.error(
                item,
                "to",
                "empty in an additive entry (nothing to add)",
                hint="`mode: exact` with `to: []` ends every sharing of what the entry selects",
            )
        return tuple(dict.fromkeys(projects))

    def target(self, item: Any, name: Any, groups: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        if isinstance(name, str) and name in groups:
            return groups[name]
        canonical = normalize_project_id(name) if isinstance(name, str) else None
        if canonical is not None:
            return (canonical,)
        if isinstance(name, str) and len(name) >= 16 and all(c in HEX for c in name.lower()):
            raise self.error(item, "to", f"invalid project id {_shown(name)}: 32 hex characters")
        if _is_number(name):
            raise self.error(item, "to", f"{_shown(name)} is a number: quote project ids ('0123…')")
        if not isinstance(name, str):
            raise self.error(item, "to", f"{_shown(name)}: a group name or a project id")
        known = ", ".join(groups) or "none defined"
        raise self.error(item, "to", f"unknown group {_shown(name)} (groups: {known})")


HEX = frozenset("0123456789abcdef")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value from a file as a message shows it: bounded, escaped by repr (shown_value)."""
    return shown_value(value)


def shown_value(value: Any, limit: int = 60) -> str:
    """A value read from a document (YAML, JSON) as a message shows it, in time and memory
    bounded whatever its size: a few items, a few levels (a YAML alias bomb is a billion items
    to repr() whole), cut to `limit` characters."""
    text = _BOUNDED.repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class _BoundedRepr(reprlib.Repr):
    """reprlib by isinstance, not type name (a LineDict is a dict), anything else by its type
    alone, and no int turned to digits past a few hundred (slow, and refused past 4,300)."""

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, dict):
            return self.repr_dict(x, level)
        if isinstance(x, (list, tuple)):
            return self.repr_list(list(x[: self.maxlist + 1]), level)
        if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 512:
            return f"<a number of {x.bit_length()} bits>"
        if x is None or isinstance(x, (str, int, float, datetime, date)):
            return super().repr1(x, level)
        return f"<{type(x).__name__}>"


_BOUNDED = _BoundedRepr()
_BOUNDED.maxlevel, _BOUNDED.maxlist, _BOUNDED.maxdict = 3, 4, 4
_BOUNDED.maxstring, _BOUNDED.maxother, _BOUNDED.maxlong = 60, 60, 60


def entry_labels(entries: Mapping[int, Entry]) -> str:
    return ", ".join(f"{e.label} ({e.where})" for e in entries.values())
