"""Who and where: config file discovery, YAML profiles, precedence, and the resolved Settings.

Precedence for every setting: flag > environment > profile > built-in default. Each resolved
value remembers where it came from, for `config show` and for error messages.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from .errors import ConfigError, UsageError

# Each cloud's host names by service, for a region (docs/wire.md, "Endpoints").
CLOUDS = {
    "otc": {
        "vbs": "https://vbs.{region}.otc.t-systems.com",
        "cbr": "https://cbr.{region}.otc.t-systems.com",
        "iam": "https://iam.{region}.otc.t-systems.com",
    },
    "huaweicloud": {
        "vbs": "https://vbs.{region}.myhuaweicloud.com",
        "cbr": "https://cbr.{region}.myhuaweicloud.com",
        "iam": "https://iam.{region}.myhuaweicloud.com",
    },
}
SERVICES = ("vbs", "cbr")
AUTH_METHODS = ("token", "password", "aksk")
OUTPUT_FORMATS = ("table", "json", "jsonl", "yaml", "csv", "ids")
SECRET_COMMAND_TIMEOUT = 30.0
MAX_CONFIG_BYTES = 1024 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3

METHOD_KEYS = {
    "token": ("token",),
    "password": ("username", "password", "domain"),
    "aksk": ("access_key", "secret_key"),
}


class Number(NamedTuple):
    """A numeric setting and its range, checked the same whatever its source. (A NamedTuple,
    as Setting: a fifth of a frozen dataclass's cost at import, which every run pays.)"""

    kind: type
    low: float
    high: float
    default: float
    low_inclusive: bool = True
    unit: str = ""

    def problem(self, value: Any) -> str | None:
        import math

        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be {'an integer' if self.kind is int else 'a number'}"
        if self.kind is int and not float(value).is_integer():
            return "must be a whole number"
        above_low = value >= self.low if self.low_inclusive else value > self.low
        if not math.isfinite(value) or not above_low or value > self.high:
            return f"must be between {self.low:g} and {self.high:g}{self.unit}"
        return None

    def parse(self, text: str) -> Any:
        """A value from an environment variable (text); ValueError if it is not a number."""
        return int(text) if self.kind is int else float(text)


TIMEOUT = Number(float, 0, 3600, DEFAULT_TIMEOUT, low_inclusive=False, unit=" seconds")
RETRIES = Number(int, 0, 20, DEFAULT_RETRIES)


class Setting(NamedTuple):
    """One setting, declared once: everything else (the file's keys and their types, the
    environment variables, the command-line options, range checks, `config show`) is read
    from SETTINGS below."""

    key: str  # in a profile (under `auth:` when section is "auth") and in Settings
    kind: type | tuple[type, ...]  # its type in the file
    help: str
    env: tuple[str, ...] = ()  # ours first, then the official SDKs' fall-backs
    flag: str | None = None  # a global option of every command
    metavar: str = ""
    section: str = ""
    secret: bool = False  # given as `key`, `key_env` (a variable's name) or `key_command`
    number: Number | None = None  # range-checked whatever the source


SETTINGS: tuple[Setting, ...] = (
    Setting("cloud", str, "otc or huaweicloud; with region, derives the endpoints.",
            env=("BACKUPSHARE_CLOUD",)),
    Setting("region", str, "Region, e.g. eu-de.", env=("BACKUPSHARE_REGION",
            "HUAWEICLOUD_SDK_REGION"), flag="--region", metavar="NAME"),
    Setting("service", str, "vbs or cbr: the backup service to use.",
            env=("BACKUPSHARE_SERVICE",), flag="--service", metavar="vbs|cbr"),
    Setting("endpoint", str, "The service's endpoint URL.", env=("BACKUPSHARE_ENDPOINT",),
            flag="--endpoint", metavar="URL"),
    Setting("project_id", str, "Project id (32 hex).", env=("BACKUPSHARE_PROJECT_ID",
            "HUAWEICLOUD_SDK_PROJECT_ID"), flag="--project-id", metavar="ID"),
    Setting("auth", dict, "Credentials: method and its keys."),
    Setting("timeout", (int, float), "Deadline of one attempt (connect and whole answer), "
            "seconds.", env=("BACKUPSHARE_TIMEOUT",), flag="--timeout", metavar="SECONDS",
            number=TIMEOUT),
    Setting("retries", int, "Extra attempts for safe requests.", env=("BACKUPSHARE_RETRIES",),
            flag="--retries", metavar="N", number=RETRIES),
    Setting("ca_bundle", str, "PEM file of CAs to trust besides the usual ones."),
    Setting("proxy", str, "Proxy URL for the endpoint and IAM."),
    Setting("output", str, "table, json, jsonl, yaml, csv or ids.",
            env=("BACKUPSHARE_OUTPUT",), flag="--output", metavar="FORMAT"),
    Setting("method", str, "token, password or aksk.", section="auth"),
    Setting("token", str, "An IAM token.", env=("BACKUPSHARE_TOKEN",), section="auth",
            secret=True),
    Setting("username", str, "IAM user name.", env=("BACKUPSHARE_USERNAME",), section="auth"),
    Setting("password", str, "IAM password.", env=("BACKUPSHARE_PASSWORD",), section="auth",
            secret=True),
    Setting("domain", str, "Account (domain) name.", env=("BACKUPSHARE_DOMAIN",),
            section="auth"),
    Setting("iam_endpoint", str, "IAM base URL.", env=("BACKUPSHARE_IAM_ENDPOINT",
            "HUAWEICLOUD_SDK_IAM_ENDPOINT"), section="auth"),
    Setting("access_key", str, "Access key (AK).", env=("BACKUPSHARE_ACCESS_KEY",
            "HUAWEICLOUD_SDK_AK"), section="auth"),
    Setting("secret_key", str, "Secret key (SK).", env=("BACKUPSHARE_SECRET_KEY",
            "HUAWEICLOUD_SDK_SK"), section="auth", secret=True),
    Setting("security_token", str, "Security token of temporary credentials.",
            env=("BACKUPSHARE_SECURITY_TOKEN", "HUAWEICLOUD_SDK_SECURITY_TOKEN"),
            section="auth", secret=True),
)  # fmt: skip
SETTING = {setting.key: setting for setting in SETTINGS}

# What the rest of this module reads, derived from the table.
PROFILE_KEYS = {s.key: s.kind for s in SETTINGS if not s.section}
SECRET_KEYS = tuple(s.key for s in SETTINGS if s.secret)
AUTH_KEYS = {s.key for s in SETTINGS if s.section == "auth"}
AUTH_KEYS |= {f"{key}{suffix}" for key in SECRET_KEYS for suffix in ("_env", "_command")}
ENV_NAMES = {s.key: s.env for s in SETTINGS if s.env}
NUMBERS = {s.key: s.number for s in SETTINGS if s.number is not None}
FLAG_SETTINGS = tuple(s for s in SETTINGS if s.flag)


# Secrets that travel in HTTP headers must be printable ASCII; every secret must be one line.
HEADER_VALUES = frozenset({"token", "security_token", "access_key"})
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A region names a host: `eu-de`, `cn-north-4`, `ap-southeast-1` — nothing else reaches a URL.
REGION_RE = re.compile(r"^[a-z]{2,4}(-[a-z0-9]{1,16}){1,3}$")
# Everything between `scheme://` and the last `@` of a URL is user info (a user name or a
# password may itself hold `@`, `:` or `/`): all of it is masked.
URL_PASSWORD_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s]*@")


class Secret:
    """A credential whose str and repr are `***`; only the header writers call `reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Flags:
    """The global options as given on the command line (None: not given)."""

    profile: str | None = None
    config: str | None = None
    output: str | None = None
    endpoint: str | None = None
    project_id: str | None = None
    region: str | None = None
    service: str | None = None
    timeout: float | None = None
    retries: int | None = None
    debug: bool = False


@dataclass(frozen=True)
class AuthSettings:
    method: str
    token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    domain: str | None = None
    iam_endpoint: str | None = None
    access_key: str | None = None
    secret_key: Secret | None = None
    security_token: Secret | None = None


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to reach the service, resolved and validated."""

    profile: str
    config_path: Path | None
    endpoint: str
    project_id: str
    auth: AuthSettings
    region: str | None = None
    cloud: str | None = None
    service: str = "vbs"
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    ca_bundle: str | None = None
    proxy: str | None = None
    output: str = "table"
    debug: bool = False
    cache_dir: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


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


# -- YAML with line numbers ----------------------------------------------------------------------
class LineDict(dict[str, Any]):
    """A mapping from YAML that knows the line of each of its keys."""

    lines: dict[str, int]
    line: int


def parse_yaml(text: str, path: Path) -> Any:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LineDict:
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
    try:
        return yaml.load(text, Loader=Loader)
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


def read_config_file(path: Path) -> LineDict:
    """The parsed file: a regular file that only its owner can change, size-bounded, with a
    readable error for every failure."""
    raw = _read_private_file(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (invalid UTF-8)") from None
    if "\x00" in text:
        raise ConfigError(f"{path}: not a text file (contains NUL bytes)")
    data = parse_yaml(text, path)
    if data is None:
        empty = LineDict()
        empty.lines, empty.line = {}, 1
        return empty
    if not isinstance(data, LineDict):
        raise ConfigError(f"{path}: the top level must be a mapping with a 'profiles' key")
    return data


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
            problems.append(f"{where}: unknown key (known: {', '.join(PROFILE_KEYS)})")
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
        problem = region_problem(value)
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
            problems.append(f"{where}: unknown key")
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


def url_problem(url: str, *, proxy: bool = False) -> str | None:
    """Why `url` cannot be an endpoint (or proxy): not http(s), no host, plain http off
    loopback, or anything a parser could read two ways — user info (`evil\\@127.0.0.1`), a
    backslash, white space or control characters, a query or a fragment."""
    shown = mask_url(url)
    if CONTROL_RE.search(url) or any(c in url for c in " \\"):
        return f"{shown!r} contains white space, a backslash or control characters"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown!r} is not an http(s) URL"
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return f"{shown!r} has an invalid port"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return f"{shown!r} has a query or fragment; give the base URL only"
    if "@" in parts.netloc and not proxy:
        return f"{shown!r} contains user info (`user@`); credentials never go in the URL"
    if parts.scheme == "http" and not proxy and not is_loopback(parts.hostname):
        return f"{shown!r}: plain http is allowed only for loopback hosts; use https"
    return None


def mask_url(text: str) -> str:
    """`scheme://user:password@host` with the password replaced by `***` (anywhere in text)."""
    return URL_PASSWORD_RE.sub(r"\1***@", text)


def region_problem(region: str) -> str | None:
    if REGION_RE.match(region):
        return None
    return f"{region!r} does not look like a region (such as eu-de or cn-north-4)"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- resolution ----------------------------------------------------------------------------------
class Resolver:
    """Looks up each setting through flag > environment > profile > default, noting the source."""

    def __init__(
        self,
        flags: Flags,
        env: Mapping[str, str],
        profile: LineDict,
        path: Path | None,
        name: str,
    ) -> None:
        self.flags, self.env, self.profile, self.path, self.name = flags, env, profile, path, name
        self.sources: dict[str, str] = {}

    def get(self, key: str, default: Any = None, *, section: LineDict | None = None) -> Any:
        flag = getattr(self.flags, key, None) if section is None else None
        if flag is not None and key != "debug":
            self.sources[key] = f"flag --{key.replace('_', '-')}"
            return flag
        for name in ENV_NAMES.get(key, ()):
            if self.env.get(name):
                self.sources[key] = f"env {name}"
                return self.env[name]
        mapping = self.profile if section is None else section
        if mapping.get(key) is not None:
            self.sources[key] = f"file {self.path}:{mapping.lines.get(key, '?')}"
            return mapping[key]
        if default is not None:
            self.sources[key] = "default"
        return default

    def invalid(self, key: str, message: str) -> ConfigError | UsageError:
        """A bad number, id or choice: a usage error (exit 2) when a flag gave it, else a
        config error (3). (A bad endpoint or region is a configuration error from any source.)"""
        given_as_flag = self.sources.get(key, "").startswith("flag")
        return UsageError(message) if given_as_flag else ConfigError(message)

    def secret(self, key: str, auth: LineDict) -> Secret | None:
        """A secret from env, or the profile as `key`, `key_env` or `key_command`, checked
        once here: a value that cannot travel in a request is a config error naming its source."""
        value = self._secret_text(key, auth)
        if value is None:
            return None
        return Secret(checked_secret(value, key, self.sources[key]))

    def _secret_text(self, key: str, auth: LineDict) -> str | None:
        for name in ENV_NAMES.get(key, ()):
            if self.env.get(name):
                self.sources[key] = f"env {name}"
                return self.env[name]
        where = f"{self.path}: profile {self.name!r}: key 'auth.{key}"
        if auth.get(key):
            self.sources[key] = f"file {self.path}:{auth.lines.get(key, '?')}"
            return str(auth[key])
        if auth.get(f"{key}_env"):
            var = str(auth[f"{key}_env"])
            if not self.env.get(var):
                raise ConfigError(
                    f"{where}_env': environment variable {var} is not set",
                    hint=f"export {var}=… before running backupshare",
                )
            self.sources[key] = f"env {var} (via {key}_env)"
            return self.env[var]
        if auth.get(f"{key}_command"):
            self.sources[key] = f"command (via {key}_command)"
            return run_secret_command(str(auth[f"{key}_command"]), f"{where}_command'")
        return None


def checked_secret(value: str, key: str, source: str) -> str:
    """The credential without surrounding white space; an inner line break or other control
    character (or, in a header, a non-ASCII character) is refused, naming the setting only —
    never the value, which may be a secret."""
    value = value.strip()
    if not value:
        raise ConfigError(f"{key} ({source}) is empty")
    if CONTROL_RE.search(value):
        raise ConfigError(
            f"{key} ({source}) contains a line break or other control character",
            hint="store the secret on one line, without control characters",
        )
    if key in HEADER_VALUES and not value.isascii():
        raise ConfigError(
            f"{key} ({source}) contains non-ASCII characters; it cannot be sent in a header",
            hint="check that the right value is stored",
        )
    return value


def run_secret_command(command: str, where: str) -> str:
    """Runs a `*_command` without a shell; its output is the secret and is never shown."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot parse the command: {exc}") from None
    if not argv:
        raise ConfigError(f"{where}: the command is empty")
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=SECRET_COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where}: command not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(
            f"{where}: the command did not finish in {SECRET_COMMAND_TIMEOUT:.0f} s"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where}: the command cannot run: {exc.strerror}") from None
    if done.returncode != 0:
        raise ConfigError(
            f"{where}: the command failed with exit code {done.returncode}",
            hint="run it yourself to see why (its output is not shown, it may hold the secret)",
        )
    value = done.stdout.decode("utf-8", "replace").strip()
    if not value:
        raise ConfigError(f"{where}: the command printed nothing")
    return value


def select_profile(
    data: LineDict, flags: Flags, env: Mapping[str, str], path: Path
) -> tuple[str, LineDict, bool]:
    """The profile's name, its settings, and whether the name was asked for explicitly."""
    default = data.get("default_profile")
    name = flags.profile or env.get("BACKUPSHARE_PROFILE") or default or "default"
    explicit = bool(flags.profile or env.get("BACKUPSHARE_PROFILE") or default)
    profiles = data.get("profiles") or {}
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    if profile is None:
        if explicit:
            known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
            raise ConfigError(
                f"{path}: profile {name!r} not found",
                hint=f"known profiles: {known}"
                if known
                else "add it with `backupshare config init`",
            )
        empty = LineDict()
        empty.lines, empty.line = {}, 0
        return name, empty, False
    return name, profile, True


def load_file(flags: Flags, env: Mapping[str, str]) -> tuple[Path | None, LineDict]:
    path, explicit = config_path(flags.config, env)
    if not explicit and not path.exists():
        empty = LineDict()
        empty.lines, empty.line = {}, 0
        return None, empty
    return path, read_config_file(path)


def load_settings(flags: Flags, env: Mapping[str, str] | None = None) -> Settings:
    """Resolves the effective settings for one invocation; raises ConfigError naming the cause."""
    env = os.environ if env is None else env
    path, data = load_file(flags, env)
    shown_path = path or default_config_path(env)
    if path is not None:
        problems = validate_file(data, path)
        if problems:
            raise ConfigError(problems[0], hint=_more_hint(len(problems)))
    name, profile, found = select_profile(data, flags, env, shown_path)
    try:
        return _settings(flags, env, path, data, name, profile)
    except ConfigError as exc:
        profiles = data.get("profiles")
        if found or not isinstance(profiles, dict) or not profiles:
            raise
        raise no_profile_selected(shown_path, list(profiles), exc) from None


def no_profile_selected(path: Path, profiles: list[str], problem: ConfigError) -> ConfigError:
    """The file has profiles but none was chosen: that, not the lack of an endpoint or of
    credentials in an empty `default` profile, is what the user must fix."""
    first = profiles[0]
    return ConfigError(
        f"no profile selected; profiles in {path}: {', '.join(profiles)}",
        hint=f"choose one with --profile {first} or BACKUPSHARE_PROFILE={first}, or set "
        f"`default_profile: {first}` in the file (without a profile: {problem.message})",
    )


def _settings(
    flags: Flags,
    env: Mapping[str, str],
    path: Path | None,
    data: LineDict,
    name: str,
    profile: LineDict,
) -> Settings:
    shown_path = path or default_config_path(env)
    resolve = Resolver(flags, env, profile, shown_path, name)
    auth_section = profile.get("auth")
    if not isinstance(auth_section, LineDict):
        auth_section = LineDict()
        auth_section.lines, auth_section.line = {}, 0

    cloud = _cloud(resolve)
    region = _region(resolve)
    service = _service(resolve)
    endpoint = _endpoint(resolve, service, cloud, region, name)
    project_id = _project_id(resolve, name)
    auth = _auth(resolve, auth_section, cloud, region, name)
    output = resolve.get("output", "table")
    if output not in OUTPUT_FORMATS:
        raise ConfigError(
            f"output format {output!r} ({resolve.sources['output']}) is not one of "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    return Settings(
        profile=name,
        config_path=path,
        endpoint=endpoint,
        project_id=project_id,
        auth=auth,
        region=region,
        cloud=cloud,
        service=service,
        timeout=float(_number(resolve, "timeout")),
        retries=int(_number(resolve, "retries")),
        ca_bundle=_ca_bundle(resolve),
        proxy=_proxy(resolve),
        output=output,
        debug=flags.debug or env.get("BACKUPSHARE_DEBUG", "").lower() in ("1", "true", "yes"),
        cache_dir=cache_dir(env),
        sources=dict(resolve.sources),
        warnings=tuple(permission_warnings(path, data)),
    )


def _service(resolve: Resolver) -> str:
    service = resolve.get("service", "vbs")
    if service not in SERVICES:
        source = resolve.sources["service"]
        raise resolve.invalid(
            "service", f"service {service!r} ({source}) is not one of {', '.join(SERVICES)}"
        )
    return str(service)


def _cloud(resolve: Resolver) -> str | None:
    cloud = resolve.get("cloud")
    if cloud is not None and cloud not in CLOUDS:
        raise ConfigError(
            f"cloud {cloud!r} ({resolve.sources['cloud']}) is not one of {', '.join(CLOUDS)}"
        )
    return None if cloud is None else str(cloud)


def _more_hint(count: int) -> str:
    more = f" ({count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return f"`backupshare config validate` lists every problem{more}"


def _endpoint(
    resolve: Resolver, service: str, cloud: str | None, region: str | None, name: str
) -> str:
    endpoint = resolve.get("endpoint")
    if endpoint:
        problem = url_problem(endpoint)
        if problem:
            raise ConfigError(f"endpoint ({resolve.sources['endpoint']}): {problem}")
        return str(endpoint).rstrip("/")
    if cloud and region:
        resolve.sources["endpoint"] = "derived from cloud and region"
        return CLOUDS[cloud][service].format(region=region)
    raise ConfigError(
        f"profile {name!r} has no endpoint",
        hint="set `endpoint`, or `cloud` and `region`, in the profile (or BACKUPSHARE_ENDPOINT, or "
        "BACKUPSHARE_CLOUD and BACKUPSHARE_REGION)",
    )


def _number(resolve: Resolver, key: str) -> float:
    """A numeric setting in its range: a bad flag is a usage error (2), a bad environment
    variable or file value a configuration error (3)."""

    number = NUMBERS[key]
    given = resolve.get(key, number.default)
    source = resolve.sources.get(key, "default")
    value = given
    if isinstance(given, str):
        try:
            value = number.parse(given.strip())
        except ValueError:
            value = None
    problem = number.problem(value)
    if problem is None:
        return float(value)
    raise resolve.invalid(key, f"invalid {key} {str(given)[:40]!r} ({source}): {problem}")


def _region(resolve: Resolver) -> str | None:
    """The region, checked whatever its source: it becomes part of host names (VBS and IAM)."""
    region = resolve.get("region")
    if region is None:
        return None
    problem = region_problem(str(region))
    if problem:
        raise ConfigError(f"region ({resolve.sources['region']}): {problem}")
    return str(region)


def _proxy(resolve: Resolver) -> str | None:
    proxy = resolve.get("proxy")
    if proxy is None:
        return None
    problem = url_problem(str(proxy), proxy=True)
    if problem:
        raise ConfigError(f"proxy ({resolve.sources['proxy']}): {problem}")
    return str(proxy)


def _project_id(resolve: Resolver, name: str) -> str:
    raw = resolve.get("project_id")
    if not raw:
        raise ConfigError(
            f"profile {name!r} has no project_id",
            hint="set `project_id` in the profile, BACKUPSHARE_PROJECT_ID, or --project-id",
        )
    from .models import normalize_project_id

    project_id = normalize_project_id(str(raw))
    if project_id is None:
        raise resolve.invalid(
            "project_id",
            f"project id {raw!r} ({resolve.sources['project_id']}) is not 32 hex characters",
        )
    return project_id


def _ca_bundle(resolve: Resolver) -> str | None:
    bundle = resolve.get("ca_bundle")
    if bundle and not Path(bundle).expanduser().is_file():
        raise ConfigError(f"ca_bundle {bundle} ({resolve.sources['ca_bundle']}) is not a file")
    return str(Path(bundle).expanduser()) if bundle else None


def _auth(
    resolve: Resolver, section: LineDict, cloud: str | None, region: str | None, name: str
) -> AuthSettings:
    # Credentials in the environment outrank the profile's, as every setting does (a CI job's
    # BACKUPSHARE_TOKEN wins over a default profile whose secret lives elsewhere).
    from_env = _method_from_env(resolve.env)
    method = from_env or section.get("method")
    if method is None:
        raise ConfigError(
            f"profile {name!r} has no credentials",
            hint="set auth.method in the profile, or BACKUPSHARE_TOKEN, BACKUPSHARE_ACCESS_KEY/"
            "BACKUPSHARE_SECRET_KEY, or BACKUPSHARE_USERNAME/BACKUPSHARE_PASSWORD",
        )
    resolve.sources["auth.method"] = (
        "derived from the environment"
        if from_env
        else f"file {resolve.path}:{section.lines.get('method', '?')}"
    )
    values: dict[str, Any] = {"method": method}
    for key in METHOD_KEYS[method]:
        if key in SECRET_KEYS:
            values[key] = resolve.secret(key, section)
        else:
            plain = resolve.get(key, section=section)
            values[key] = checked_secret(str(plain), key, resolve.sources[key]) if plain else None
        if not values[key]:
            raise ConfigError(
                f"profile {name!r}: auth method {method!r} needs {key!r}",
                hint=f"set auth.{key} in the profile or {ENV_NAMES[key][0]}",
            )
    if method == "aksk":
        values["security_token"] = resolve.secret("security_token", section)
    if method == "password":
        values["iam_endpoint"] = _iam_endpoint(resolve, section, cloud, region, name)
    return AuthSettings(**values)


def _iam_endpoint(
    resolve: Resolver, section: LineDict, cloud: str | None, region: str | None, name: str
) -> str:
    url = resolve.get("iam_endpoint", section=section)
    if url:
        problem = url_problem(url)
        if problem:
            raise ConfigError(f"iam_endpoint ({resolve.sources['iam_endpoint']}): {problem}")
        url = str(url).rstrip("/")
        return url[: -len("/v3")] if url.endswith("/v3") else url
    if cloud and region:
        resolve.sources["iam_endpoint"] = "derived from cloud and region"
        return CLOUDS[cloud]["iam"].format(region=region)
    raise ConfigError(
        f"profile {name!r}: auth method 'password' needs an IAM endpoint",
        hint="set auth.iam_endpoint, or `cloud` and `region`, in the profile",
    )


def _method_from_env(env: Mapping[str, str]) -> str | None:
    def given(key: str) -> bool:
        return any(env.get(name) for name in ENV_NAMES[key])

    if given("token"):
        return "token"
    if given("access_key") and given("secret_key"):
        return "aksk"
    if given("username") and given("password"):
        return "password"
    return None


def holds_secret(data: Any) -> bool:
    """Whether any profile of a parsed config file writes a secret's value into it."""
    profiles = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(profiles, dict):
        return False
    return any(
        isinstance(profile, dict)
        and isinstance(profile.get("auth"), dict)
        and any(profile["auth"].get(key) for key in SECRET_KEYS)
        for profile in profiles.values()
    )


def permission_warnings(path: Path | None, data: Any) -> list[str]:
    """A secret written in a file that group or others can read deserves a warning every run,
    whichever profile is in use."""
    import stat

    if path is None or not holds_secret(data):
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            f"{path} holds a secret and is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        ]
    return []


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


def write_private(path: Path, text: str) -> None:
    """Writes `text` to `path` (mode 0600) through a new temp file: created exclusively with a
    random name in a directory checked first, so nothing planted there is written through."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = path.parent.stat()
    sticky = bool(folder.st_mode & stat.S_ISVTX)
    if folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
        raise ConfigError(
            f"{path.parent} is writable by group or others; refusing to write a config there",
            hint=f"run: chmod go-w {path.parent}",
        )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # O_EXCL, mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(value: Any) -> Any:
    """LineDicts back to plain dicts, so yaml writes ordinary mappings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
