"""The settings, declared once: the SETTINGS table (file key, environment variable, flag, type,
range, default, help), the types a resolved profile is made of, and the checks every source of
a value — flag, environment, file — must pass. Resolving a profile is resolution.py's; reading
and writing the file is config_file.py's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .auth import Secret

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
# `-o dot` draws a graph: only list-shares across the project and audit (cli/options.py), so
# it is a flag's (or BACKUPSHARE_OUTPUT's) choice for one run, never a profile's `output:`.
GRAPH_FORMAT = "dot"
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
            return f"must be {self.range_text()}"
        return None

    def range_text(self) -> str:
        """The range exactly: `between 0 and 20`, or `more than 0 and at most 3600 seconds`."""
        if self.low_inclusive:
            return f"between {self.low:g} and {self.high:g}{self.unit}"
        return f"more than {self.low:g} and at most {self.high:g}{self.unit}"

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
    Setting("output", str, "table, json, jsonl, yaml, csv or ids (dot: list-shares, audit).",
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

# What the rest of this module reads, derived from the table.
PROFILE_KEYS = {s.key: s.kind for s in SETTINGS if not s.section}
SECRET_KEYS = tuple(s.key for s in SETTINGS if s.secret)
AUTH_KEYS = {s.key for s in SETTINGS if s.section == "auth"}
AUTH_KEYS |= {f"{key}{suffix}" for key in SECRET_KEYS for suffix in ("_env", "_command")}
ENV_NAMES = {s.key: s.env for s in SETTINGS if s.env}
NUMBERS = {s.key: s.number for s in SETTINGS if s.number is not None}
FLAG_SETTINGS = tuple(s for s in SETTINGS if s.flag)
# A profile named explicitly (the --profile flag, or `Client(profile=...)`) brings its own identity:
# these variables then do not apply, as with the AWS CLI. Endpoint, region, service and the rest
# still do. BACKUPSHARE_PROFILE does not count as naming one: a CI job exports it with a token.
IDENTITY_KEYS = ("project_id", *(s.key for s in SETTINGS if s.section == "auth" and s.key
                 not in ("method", "iam_endpoint")))  # fmt: skip

CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A region names a host: `eu-de`, `cn-north-4`, `ap-southeast-1` — nothing else reaches a URL.
# Patterns a run may never need are kept as text: `re` compiles (and caches) one on first use.
REGION_PATTERN = r"[a-z]{2,4}(-[a-z0-9]{1,16}){1,3}"  # always fullmatch: no `\n` after it
# Everything between `scheme://` and the last `@` of a URL is user info (a user name or a
# password may itself hold `@`, `:` or `/`): all of it is masked. Both parts are bounded and
# the pattern only ever sees a window around one `://` (mask_url), so a long server string
# costs linear time: an unbounded `[A-Za-z0-9+.-]*://` was quadratic on a run of letters.
SCHEME_MAX = 32
USERINFO_MAX = 512
URL_PASSWORD_RE = re.compile(
    rf"([A-Za-z][A-Za-z0-9+.-]{{0,{SCHEME_MAX - 1}}}://)[^\s]{{0,{USERINFO_MAX}}}@"
)
SCHEME_END_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*\Z")  # only on the SCHEME_MAX before `://`
URL_WINDOW_MAX = SCHEME_MAX + len("://") + USERINFO_MAX + 1  # the most the pattern ever sees


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


# AuthSettings and Settings are NamedTuples, as Number and Setting: built once per run and only
# read, and every command defines them at start-up (a frozen dataclass: ≈ 0.8 ms each).
class AuthSettings(NamedTuple):
    method: str
    token: Secret | None = None
    username: str | None = None
    password: Secret | None = None
    domain: str | None = None
    iam_endpoint: str | None = None
    access_key: str | None = None
    secret_key: Secret | None = None
    security_token: Secret | None = None


class Settings(NamedTuple):
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
    sources: Mapping[str, str] = MappingProxyType({})  # read-only: the default is shared
    warnings: tuple[str, ...] = ()


def profile_name(
    flag: str | None, env: Mapping[str, str], data: Mapping[str, Any]
) -> tuple[str, bool]:
    """The profile a run uses — --profile, else BACKUPSHARE_PROFILE, else the file's
    `default_profile`, else `default` — and whether it was named (then it must exist)."""
    named = flag or env.get("BACKUPSHARE_PROFILE") or data.get("default_profile")
    return (str(named), True) if named else ("default", False)


# -- checks of values ---------------------------------------------------------------------------
def url_problem(url: str, *, proxy: bool = False) -> str | None:
    """Why `url` cannot be an endpoint (or proxy): not http(s), no host, plain http off
    loopback, or anything a parser could read two ways — user info (`evil\\@127.0.0.1`), a
    backslash, white space or control characters, a query or a fragment."""
    shown = mask_proxy(url)
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
    """`scheme://user:password@host` with the password replaced by `***` (anywhere in text),
    in linear time: the pattern is tried once per `://`, on a bounded window starting at the
    scheme that ends there."""
    at = text.find("://")
    if at == -1:  # the common case: no URL at all
        return text
    pieces, done = [], 0
    while at != -1:
        scheme = SCHEME_END_RE.search(text[max(done, at - SCHEME_MAX) : at])
        match = None
        if scheme is not None:
            begin = max(done, at - SCHEME_MAX) + scheme.start()
            match = URL_PASSWORD_RE.match(text[begin : begin + URL_WINDOW_MAX])
        if match is None:
            at = text.find("://", at + 1)
            continue
        pieces += [text[done:begin], match.group(1), "***@"]
        done = begin + match.end()
        at = text.find("://", done)
    return "".join(pieces) + text[done:]


def mask_proxy(url: str) -> str:
    """One URL (a proxy's) with its user info masked, with or without a scheme: proxies are
    often written `user:pass@host:port`, which mask_url (looking for `://`) would pass."""
    if "://" in url:
        return mask_url(url)
    if "@" in url:
        return "***@" + url.rsplit("@", 1)[1]
    return url


def normalized_proxy(value: str) -> str:
    """A proxy from the environment as curl and requests mean it: without a scheme, http://.
    (requests' own prepend_scheme_if_needed reads `user:pass@host:3128` as scheme `user`.)"""
    value = value.strip()
    return value if "://" in value else f"http://{value}"


def region_problem(region: str) -> str | None:
    if re.fullmatch(REGION_PATTERN, region):
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
