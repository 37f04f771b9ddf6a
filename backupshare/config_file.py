"""The config file: where it is, its YAML read with the line of every key (so a problem names
its line), bounded and only if its owner alone can change it, every problem in it checked
against the settings table (config.py), and a profile written into it (owner-only, through
private_files.py).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import (
    AUTH_KEYS,
    AUTH_METHODS,
    CLOUDS,
    NUMBERS,
    OUTPUT_FORMATS,
    PROFILE_KEYS,
    SECRET_KEYS,
    SERVICES,
    Flags,
    region_problem,
    url_problem,
)
from .errors import ConfigError, did_you_mean
from .private_files import check_owner_only, write_private

MAX_CONFIG_BYTES = 1024 * 1024


# -- file discovery ------------------------------------------------------------------------------
def default_config_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "backupshare" / "config.yaml"


def cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".cache")
    return Path(base) / "backupshare"


def config_path(flag: str | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file in use and whether it was named explicitly (so must exist)."""
    if flag:
        return Path(flag).expanduser(), True
    if env.get("BACKUPSHARE_CONFIG"):
        return Path(env["BACKUPSHARE_CONFIG"]).expanduser(), True
    return default_config_path(env), False


def load_file(flags: Flags, env: Mapping[str, str]) -> tuple[Path | None, LineDict]:
    path, explicit = config_path(flags.config, env)
    if not explicit and not path.exists():
        empty = LineDict()
        empty.lines, empty.line = {}, 0
        return None, empty
    return path, read_config_file(path)


# -- YAML with line numbers ----------------------------------------------------------------------
class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line of each of its keys."""

    lines: dict[str, int]
    line: int


MAX_YAML_DEPTH = 64  # a sharings file or a config nests 4 or 5 deep; a recursive walk stays safe
MAX_YAML_VALUES = 200_000  # values once aliases are expanded: a 1 MiB file's worth, not a bomb's


def parse_yaml(text: str, path: Path) -> Any:
    """The document, its mappings LineDicts. Whatever the text, a ConfigError naming the file
    (and the line) or a value: nesting is bounded while composing (no RecursionError), aliases
    may not expand past MAX_YAML_VALUES (a kilobyte of nested anchors is a billion values to
    whoever walks it), and a value the constructors refuse (`2026-13-45`) is named."""
    import yaml

    loader = None
    try:
        loader = _line_loader(yaml, path)(text)
        node = loader.get_single_node()
        if node is None:
            return None
        data = loader.construct_document(node)  # linear: an alias is constructed once
        _check_expansion(node, path)  # before anything walks the data
        return data
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark, exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        if context is not None and mark is not None and context.line != mark.line:
            where += f" (in what starts at line {context.line + 1})"
        raise ConfigError(
            f"{path}: YAML syntax error at {where}: {exc.problem or exc.context}",
            hint="fix the file's YAML syntax (`backupshare config validate` checks it)",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:  # bounded above: only a deeper-than-expected stack gets here
        raise ConfigError(f"{path}: nested too deeply to read") from None
    finally:
        if loader is not None:
            loader.dispose()


def _line_loader(yaml: Any, path: Path) -> Any:
    """A safe loader whose mappings know their lines, with unique string keys, bounded depth
    and every value's construction error named at its line."""

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.depth >= MAX_YAML_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise ConfigError(f"{path}:{line}: nested more than {MAX_YAML_DEPTH} levels deep")
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, OverflowError) as exc:  # `2026-13-45`: datetime's ValueError
                value = str(node.value)[:40] if isinstance(node, yaml.ScalarNode) else "value"
                raise ConfigError(
                    f"{path}:{node.start_mark.line + 1}: cannot read {value!r}: {str(exc)[:80]}",
                    hint="quote it to make it text",
                ) from None

    def construct_mapping(loader: Any, node: Any) -> LineDict:
        loader.flatten_mapping(node)
        mapping = LineDict()
        mapping.lines = {}
        mapping.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            # Checked before construction: a key built from aliases can expand without bound.
            key = (
                loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            )
            if not isinstance(key, str):
                raise ConfigError(
                    f"{path}: line {key_node.start_mark.line + 1}: keys must be strings"
                )
            if key in mapping:
                raise ConfigError(
                    f"{path}: line {key_node.start_mark.line + 1}: duplicate key {key!r}"
                )
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.lines[key] = key_node.start_mark.line + 1
        return mapping

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def _check_expansion(root: Any, path: Path) -> None:
    """Refuses a document whose aliases expand past MAX_YAML_VALUES values, or refer to what
    contains them: counted on the composed nodes, each shared node once (linear time)."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        known = sizes.get(id(node))
        if known is not None:
            if known < 0:
                raise ConfigError(
                    f"{path}:{node.start_mark.line + 1}: an alias refers to what contains it"
                )
            return known
        if isinstance(node.value, str):
            return 1
        sizes[id(node)] = -1  # in progress: met again below, a cycle
        children = [part for item in node.value for part in (item if isinstance(item, tuple)
                    else (item,))]  # fmt: skip
        total = 1 + sum(size(child) for child in children)
        if total > MAX_YAML_VALUES:
            raise ConfigError(
                f"{path}:{node.start_mark.line + 1}: aliases expand to more than "
                f"{MAX_YAML_VALUES:,} values: not a configuration"
            )
        sizes[id(node)] = total
        return total

    size(root)


def read_config_file(path: Path) -> LineDict:
    """The parsed file: a regular file that only its owner can change, size-bounded, with a
    readable error for every failure. /dev/null is the usual idiom for "no configuration":
    an empty file, not a device to refuse."""
    if str(path) == os.devnull:
        return _empty_file()
    data = parse_yaml(text_of(_read_private_file(path), str(path)), path)
    if data is None:
        return _empty_file()
    if not isinstance(data, LineDict):
        raise ConfigError(f"{path}: the top level must be a mapping with a 'profiles' key")
    return data


def text_of(raw: bytes, shown: str) -> str:
    """A file's bytes as text: UTF-8 without NUL bytes, else a ConfigError naming it (a
    binary file given by mistake is never parsed)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{shown}: not a text file (invalid UTF-8)") from None
    if "\x00" in text:
        raise ConfigError(f"{shown}: not a text file (contains NUL bytes)")
    return text


def _empty_file() -> LineDict:
    empty = LineDict()
    empty.lines, empty.line = {}, 1
    return empty


def _read_private_file(path: Path) -> bytes:
    """The bytes of a config file. A FIFO or device would hang or never end, and a file others
    can change would let them run `*_command`s as us: refused, as ssh refuses such files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            hint="create one with `backupshare config init` or name another with --config",
        ) from None
    except PermissionError:
        raise ConfigError(
            f"config file {path} is not readable", hint=f"check the permissions of {path}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ConfigError(f"{path}: is a directory, not a config file")
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: not a regular file (a device, FIFO or socket)")
        check_owner_only(path, info)
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: file is too large (a config is < 1 MiB)")
    return raw


# -- validation ----------------------------------------------------------------------------------
def _where(path: Path, profile: str, key: str, mapping: LineDict | None, name: str) -> str:
    line = mapping.lines.get(name) if mapping is not None else None
    suffix = f" (line {line})" if line else ""
    return f"{path}: profile {profile!r}: key {key!r}{suffix}"


def _type_name(expected: Any) -> str:
    names = {str: "a string", int: "an integer", dict: "a mapping", (int, float): "a number"}
    return names.get(expected, str(expected))


def validate_file(data: LineDict, path: Path) -> list[str]:
    """Every problem in the file, each naming file, profile, key and line."""
    problems: list[str] = []
    for key in data:
        if key not in ("default_profile", "profiles"):
            problems.append(f"{path}: unknown top-level key {key!r} (line {data.lines[key]})")
    default = data.get("default_profile")
    if default is not None and not isinstance(default, str):
        problems.append(f"{path}: 'default_profile' must be a string")
    profiles = data.get("profiles", {})
    if profiles is None:
        profiles = {}
    if not isinstance(profiles, dict):
        problems.append(f"{path}: 'profiles' must be a mapping of profile names to settings")
        return problems
    if isinstance(default, str) and profiles and default not in profiles:
        problems.append(f"{path}: default_profile {default!r} is not among the profiles")
    for name, profile in profiles.items():
        problems.extend(validate_profile(profile, str(name), path))
    return problems


def validate_profile(profile: Any, name: str, path: Path) -> list[str]:
    if profile is None:
        return [f"{path}: profile {name!r} is empty"]
    if not isinstance(profile, LineDict):
        return [f"{path}: profile {name!r} must be a mapping"]
    problems = []
    for key, value in profile.items():
        where = _where(path, name, key, profile, key)
        expected = PROFILE_KEYS.get(key)
        if expected is None:
            near = did_you_mean(key, PROFILE_KEYS)
            known = f"known: {', '.join(PROFILE_KEYS)}"
            problems.append(f"{where}: unknown key ({near + ' ' if near else ''}{known})")
        elif value is None or isinstance(value, bool) or not isinstance(value, expected):
            problems.append(f"{where}: must be {_type_name(expected)}")
        else:
            problems.extend(_check_value(key, value, where))
    auth = profile.get("auth")
    if isinstance(auth, LineDict):
        problems.extend(validate_auth(auth, name, path))
    return problems


def _check_value(key: str, value: Any, where: str) -> list[str]:
    if key == "cloud" and value not in CLOUDS:
        return [f"{where}: must be one of {', '.join(CLOUDS)}"]
    if key == "service" and value not in SERVICES:
        return [f"{where}: must be one of {', '.join(SERVICES)}"]
    from .models import normalize_project_id

    if key == "project_id" and normalize_project_id(value) is None:
        return [f"{where}: {value!r} is not a project id (32 hex characters)"]
    if key in ("endpoint", "proxy"):
        problem = url_problem(value, proxy=key == "proxy")
        return [f"{where}: {problem}"] if problem else []
    if key == "region":
        problem = region_problem(value.lower())  # EU-DE is eu-de, as in _region
        return [f"{where}: {problem}"] if problem else []
    if key in NUMBERS:
        problem = NUMBERS[key].problem(value)
        return [f"{where}: {problem}"] if problem else []
    if key == "output" and value not in OUTPUT_FORMATS:
        return [f"{where}: must be one of {', '.join(OUTPUT_FORMATS)}"]
    return []


def validate_auth(auth: LineDict, name: str, path: Path) -> list[str]:
    problems = []
    for key, value in auth.items():
        where = _where(path, name, f"auth.{key}", auth, key)
        if key not in AUTH_KEYS:
            near = did_you_mean(key, sorted(AUTH_KEYS))
            problems.append(f"{where}: unknown key" + (f" ({near})" if near else ""))
        elif not isinstance(value, str) or not value:
            problems.append(f"{where}: must be a non-empty string")
    method = auth.get("method")
    if method is not None and method not in AUTH_METHODS:
        where = _where(path, name, "auth.method", auth, "method")
        problems.append(f"{where}: must be one of {', '.join(AUTH_METHODS)}")
    for key in SECRET_KEYS:
        given = [k for k in (key, f"{key}_env", f"{key}_command") if k in auth]
        if len(given) > 1:
            where = _where(path, name, f"auth.{key}", auth, given[1])
            problems.append(f"{where}: give only one of {', '.join(given)}")
    return problems


# -- writing -------------------------------------------------------------------------------------
def write_profile(path: Path, name: str, profile: dict[str, Any], *, force: bool) -> None:
    """Adds (or with force replaces) one profile, keeping the others; the file is mode 0600."""
    import yaml

    data: dict[str, Any] = {}
    if path.exists():
        data = dict(read_config_file(path))
        problems = validate_file(read_config_file(path), path)
        if problems:
            raise ConfigError(problems[0], hint="fix the file before adding a profile to it")
    profiles = dict(data.get("profiles") or {})
    if name in profiles and not force:
        raise ConfigError(
            f"{path}: profile {name!r} exists already", hint="add --force to overwrite it"
        )
    profiles[name] = profile
    data["profiles"] = {k: _plain(v) for k, v in profiles.items()}
    data.setdefault("default_profile", name)
    text = yaml.safe_dump(_plain(data), sort_keys=False, default_flow_style=False)
    write_private(path, text)


def _plain(value: Any) -> Any:
    """LineDicts back to plain dicts, so yaml writes ordinary mappings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
