"""Resolution: each setting's value from flag > environment > profile > built-in default (a
library caller's keyword arguments, `Client(timeout=…)`, rank as flags), with the source of
each (for `config show` and for error messages), secrets from their `*_env` and
`*_command` too, checked against the table (config.py) into one Settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .auth import Secret
from .config import (
    CLOUDS,
    CONTROL_RE,
    ENV_NAMES,
    GRAPH_FORMAT,
    IDENTITY_KEYS,
    METHOD_KEYS,
    NUMBERS,
    OUTPUT_FORMATS,
    SECRET_KEYS,
    SERVICES,
    SETTINGS,
    AuthSettings,
    Flags,
    Settings,
    permission_warnings,
    profile_name,
    region_problem,
    url_problem,
)
from .config_file import LineDict, cache_dir, default_config_path, load_file, validate_file
from .errors import ConfigError, UsageError

SECRET_COMMAND_TIMEOUT = 30.0
# Secrets that travel in HTTP headers must be printable ASCII; every secret must be one line.
HEADER_VALUES = frozenset({"token", "security_token", "access_key"})


class Resolver:
    """Looks up each setting through flag > environment > profile > default, noting the source."""

    def __init__(
        self,
        flags: Flags,
        env: Mapping[str, str],
        profile: LineDict,
        path: Path | None,
        name: str,
        keywords: Mapping[str, Any] | None = None,
    ) -> None:
        self.flags, self.env, self.profile, self.path, self.name = flags, env, profile, path, name
        self.keywords = keywords or {}  # a library caller's, checked against the table (api.py)
        self.sources: dict[str, str] = {}
        # Variables that do not count because --profile was given (IDENTITY_KEYS).
        self.ignored = frozenset(identity_env_names() if flags.profile else ())

    def env_value(self, name: str) -> str | None:
        """A setting's variable, unless the explicit profile overrides it."""
        return None if name in self.ignored else self.env.get(name) or None

    def get(self, key: str, default: Any = None, *, section: LineDict | None = None) -> Any:
        if self.keywords.get(key) is not None:
            self.sources[key] = f"keyword {key}"
            return self.keywords[key]
        flag = getattr(self.flags, key, None) if section is None else None
        if flag is not None and key != "debug":
            self.sources[key] = f"flag --{key.replace('_', '-')}"
            return flag
        for name in ENV_NAMES.get(key, ()):
            if self.env_value(name):
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
        given_as_flag = self.sources.get(key, "").startswith(("flag", "keyword"))
        return UsageError(message) if given_as_flag else ConfigError(message)

    def secret(self, key: str, auth: LineDict) -> Secret | None:
        """A secret from env, or the profile as `key`, `key_env` or `key_command`, checked
        once here: a value that cannot travel in a request is a config error naming its source."""
        value = self._secret_text(key, auth)
        if value is None:
            return None
        return Secret(checked_secret(value, key, self.sources[key]))

    def _secret_text(self, key: str, auth: LineDict) -> str | None:
        if self.keywords.get(key) is not None:
            self.sources[key] = f"keyword {key}"
            value = self.keywords[key]
            return value.reveal() if isinstance(value, Secret) else str(value)
        for name in ENV_NAMES.get(key, ()):
            if self.env_value(name):
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


# The credentials the environment may hold for us: a `*_command` helper (a password manager, a
# vault client) needs none of them to print its own secret, so it does not inherit them.
CREDENTIAL_ENV = frozenset(
    name for s in SETTINGS if s.secret or s.key == "access_key" for name in s.env
)


def helper_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment a `*_command` runs in: ours, without the credentials of CREDENTIAL_ENV."""
    return {name: value for name, value in env.items() if name not in CREDENTIAL_ENV}


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
            env=helper_environment(os.environ),
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
    name, explicit = profile_name(flags.profile, env, data)
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


def load_settings(
    flags: Flags,
    env: Mapping[str, str] | None = None,
    keywords: Mapping[str, Any] | None = None,
    *,
    read_file: bool = True,
) -> Settings:
    """Resolves the effective settings for one invocation; raises ConfigError naming the cause.
    `keywords`: a library caller's settings by their table key, ranked as flags; without
    `read_file` no config file is looked for (Client.from_env)."""
    env = os.environ if env is None else env
    path, data = load_file(flags, env) if read_file else (None, _empty())
    shown_path = path or default_config_path(env)
    if path is not None:
        problems = validate_file(data, path)
        if problems:
            raise ConfigError(problems[0], hint=_more_hint(len(problems)))
    name, profile, found = select_profile(data, flags, env, shown_path)
    try:
        return _settings(flags, env, path, data, name, profile, keywords)
    except ConfigError as exc:
        profiles = data.get("profiles")
        if found or not isinstance(profiles, dict) or not profiles:
            raise
        raise no_profile_selected(shown_path, list(profiles), exc) from None


def _empty() -> LineDict:
    empty = LineDict()
    empty.lines, empty.line = {}, 0
    return empty


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
    keywords: Mapping[str, Any] | None = None,
) -> Settings:
    shown_path = path or default_config_path(env)
    resolve = Resolver(flags, env, profile, shown_path, name, keywords)
    resolve.sources["profile"] = profile_source(flags, env, data)
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
    if output == GRAPH_FORMAT and not resolve.sources["output"].startswith("file "):
        pass  # -o dot / BACKUPSHARE_OUTPUT=dot: one run's graph (cli/options.py checks where)
    elif output not in OUTPUT_FORMATS:
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
        warnings=(
            *ignored_env_warnings(name, env, resolve.ignored),
            *permission_warnings(path, data),
        ),
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
        return derived_url(CLOUDS[cloud][service], region)
    raise ConfigError(
        f"profile {name!r} has no endpoint",
        hint="set `endpoint`, or `cloud` and `region`, in the profile (or BACKUPSHARE_ENDPOINT, or "
        "BACKUPSHARE_CLOUD and BACKUPSHARE_REGION)",
    )


def derived_url(template: str, region: str) -> str:
    """A service URL from its cloud's template, checked like a configured one: the region was
    checked on its own, but what reaches a host name is the URL (defence in depth)."""
    url = template.format(region=region)
    problem = region_problem(region) or url_problem(url)
    if problem:
        raise ConfigError(f"the URL derived from cloud and region is not valid: {problem}")
    return url


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
    given = resolve.get("region")
    if given is None:
        return None
    region = str(given).lower()  # `EU-DE` from a flag, variable or file means eu-de
    problem = region_problem(region)
    if problem:
        raise ConfigError(f"region ({resolve.sources['region']}): {problem}")
    return region


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
    from_keywords = resolve.keywords.get("method") or _method_given(
        lambda key: resolve.keywords.get(key) is not None
    )
    from_env = from_keywords or _method_from_env(resolve.env_value)
    method = from_env or section.get("method")
    if method is None:
        raise ConfigError(
            f"profile {name!r} has no credentials",
            hint="set auth.method in the profile, or BACKUPSHARE_TOKEN, BACKUPSHARE_ACCESS_KEY/"
            "BACKUPSHARE_SECRET_KEY, or BACKUPSHARE_USERNAME/BACKUPSHARE_PASSWORD",
        )
    if method not in METHOD_KEYS:  # a file's is validated with the file; a keyword's here
        raise UsageError(f"auth method {method!r} is not one of {', '.join(METHOD_KEYS)}")
    resolve.sources["auth.method"] = (
        "derived from the keyword arguments"
        if from_keywords
        else "derived from the environment"
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
        return derived_url(CLOUDS[cloud]["iam"], region)
    raise ConfigError(
        f"profile {name!r}: auth method 'password' needs an IAM endpoint",
        hint="set auth.iam_endpoint, or `cloud` and `region`, in the profile",
    )


def _method_from_env(env_value: Callable[[str], str | None]) -> str | None:
    return _method_given(lambda key: any(env_value(name) for name in ENV_NAMES[key]))


def _method_given(given: Callable[[str], bool]) -> str | None:
    """The auth method the credentials given imply (a token, a key pair, a user)."""
    if given("token"):
        return "token"
    if given("access_key") and given("secret_key"):
        return "aksk"
    if given("username") and given("password"):
        return "password"
    return None


def identity_env_names() -> tuple[str, ...]:
    return tuple(name for key in IDENTITY_KEYS for name in ENV_NAMES.get(key, ()))


def ignored_env_warnings(
    profile: str, env: Mapping[str, str], ignored: frozenset[str]
) -> list[str]:
    """One warning naming every set variable the explicit profile overrides (none: no warning)."""
    names = [name for name in identity_env_names() if name in ignored and env.get(name)]
    if not names:
        return []
    return [
        f"--profile {profile} given: ignoring {', '.join(names)} from the environment "
        "(the profile's credentials and project id apply)"
    ]


def profile_source(flags: Flags, env: Mapping[str, str], data: LineDict) -> str:
    """How the profile was chosen, for `config show`."""
    if flags.profile:
        return "flag --profile (environment credentials and project id not used)"
    if env.get("BACKUPSHARE_PROFILE"):
        return "env BACKUPSHARE_PROFILE"
    if data.get("default_profile"):
        return "default_profile in the file"
    return "default"
