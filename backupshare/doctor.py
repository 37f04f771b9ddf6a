"""`doctor`: the step-by-step check of config, endpoint, credentials and clock.

Each step says ok, warn or fail, what it saw and how to fix it. Steps after a failure that
they depend on are skipped, so the first failure is the one to fix.
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from .config import Flags, Settings, is_loopback, mask_proxy, permission_warnings
from .config_file import config_path, read_config_file
from .errors import BackupshareError, ConfigError, UnavailableError
from .resolution import load_settings

SKEW_LIMIT = 15 * 60  # the gateway rejects AK/SK dates further off than this
SKEW_WARN = 60


@dataclass
class Step:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status, "detail": self.detail, "fix": self.fix}


def fail(check: str, error: BackupshareError, fix: str | None = None) -> Step:
    return Step(check, "fail", error.headline(), fix or error.hint or "", error.exit_code)


def run_checks(
    flags: Flags,
    env: Mapping[str, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Step]:
    """Each check in turn, stopping at the first that leaves nothing to check; `env` is the
    environment the settings come from (os.environ unless given); `log` hears the requests
    (with --debug), as every other command's do."""
    env = os.environ if env is None else env
    steps = [_config_file(flags, env)]
    if steps[-1].status == "fail":
        return steps
    try:
        settings = load_settings(flags, env)
    except BackupshareError as exc:
        return [*steps, fail("profile", exc)]
    detail = f"{settings.profile!r}: {settings.auth.method} auth, project {settings.project_id}"
    ignored = [w for w in settings.warnings if w.startswith("--profile ")]
    if ignored:  # the environment's credentials are set but not what this run uses
        steps.append(Step("profile", "warn", f"{detail}; {ignored[0]}", "unset them, or drop -p"))
    else:
        steps.append(Step("profile", "ok", detail))
    step, proxy = _proxy(settings)
    steps.append(step)
    if step.status == "fail":  # going direct instead would test another way than the CLI's
        return steps
    network = _through_proxy(settings, proxy) if proxy else _endpoint(settings)
    steps.extend(network)
    if any(step.status == "fail" for step in network):
        return steps
    steps.extend(_credentials(settings, log if settings.debug else None))
    return steps


def _config_file(flags: Flags, env: Mapping[str, str]) -> Step:
    path, explicit = config_path(flags.config, env)
    if not path.exists():
        if explicit:
            return fail(
                "config file",
                ConfigError(f"{path} does not exist"),
                "create it with `backupshare config init`",
            )
        return Step(
            "config file",
            "warn",
            f"{path} does not exist; using the environment only",
            "run `backupshare config init` to create a profile",
        )
    try:
        data = read_config_file(path)
    except BackupshareError as exc:
        return fail("config file", exc)
    warnings = permission_warnings(path, data)
    if warnings:
        return Step("config file", "warn", warnings[0], f"chmod 600 {path}")
    return Step("config file", "ok", f"{path}")


def _proxy(settings: Settings) -> tuple[Step, str | None]:
    """The proxy step, and the proxy the client will use for the endpoint (the client's rule)."""
    from .client import proxies_for

    host = urlsplit(settings.endpoint).hostname or ""
    if is_loopback(host):
        return Step("proxy", "ok", "none (loopback is never proxied)"), None
    scheme = urlsplit(settings.endpoint).scheme
    try:
        proxy = proxies_for(settings.endpoint, settings.proxy).get(scheme)
    except ConfigError as exc:  # an environment proxy that is not a proxy URL
        return fail("proxy", exc), None
    if not proxy:
        return Step("proxy", "ok", "none"), None
    source = "profile" if settings.proxy else "environment"
    return Step("proxy", "ok", f"{mask_proxy(proxy)} ({source})"), proxy


def _through_proxy(settings: Settings, proxy: str) -> list[Step]:
    """Behind a proxy the proxy resolves the endpoint's name and connects to it: this machine
    may have no DNS for it at all. What can be checked here is the way to the proxy; the
    credentials step then proves the endpoint, TLS included, through it."""
    host = urlsplit(settings.endpoint).hostname or ""
    steps = [Step("dns", "ok", f"skipped: the proxy resolves {host}")]
    proxy_parts = urlsplit(proxy)
    proxy_host = proxy_parts.hostname or ""
    proxy_port = proxy_parts.port or (443 if proxy_parts.scheme == "https" else 80)
    started = time.monotonic()
    try:
        socket.create_connection((proxy_host, proxy_port), timeout=10).close()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return [
            *steps,
            fail(
                "tcp",
                UnavailableError(
                    f"cannot connect to the proxy {proxy_host}:{proxy_port}: {reason}"
                ),
                "check the proxy setting (profile `proxy`, HTTPS_PROXY, NO_PROXY)",
            ),
        ]
    elapsed = (time.monotonic() - started) * 1000
    steps.append(Step("tcp", "ok", f"proxy {proxy_host}:{proxy_port} in {elapsed:.0f} ms"))
    steps.append(Step("tls", "ok", "checked through the proxy by the credentials step"))
    return steps


def _endpoint(settings: Settings) -> list[Step]:
    parts = urlsplit(settings.endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    steps = []
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return [
            fail(
                "dns",
                UnavailableError(f"cannot resolve {host}: {exc.strerror}"),
                "check the endpoint's host name, or cloud/region",
            )
        ]
    steps.append(Step("dns", "ok", f"{host} → {addresses[0][4][0]}"))
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=10)
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return [
            *steps,
            fail(
                "tcp",
                UnavailableError(f"cannot connect to {host}:{port}: {reason}"),
                "is the service (or `backupshare emulator`) running? a firewall?",
            ),
        ]
    steps.append(
        Step("tcp", "ok", f"{host}:{port} in {(time.monotonic() - started) * 1000:.0f} ms")
    )
    with sock:
        if parts.scheme != "https":
            steps.append(Step("tls", "ok", "plain http (loopback only)"))
            return steps
        from .client import TrustStore

        trust = TrustStore(settings.ca_bundle)  # the client's own trust
        store = trust.verify()
        context = ssl.create_default_context(cafile=store if isinstance(store, str) else None)
        try:
            with context.wrap_socket(sock, server_hostname=host) as tls:
                steps.append(Step("tls", "ok", f"{tls.version()}, certificate verified"))
        except (ssl.SSLError, OSError) as exc:
            steps.append(
                fail(
                    "tls",
                    UnavailableError(f"TLS to {host} failed: {exc}"),
                    "set `ca_bundle` if a corporate CA signs the endpoint",
                )
            )
        finally:
            trust.close()
    return steps


def _credentials(settings: Settings, log: Callable[[str], None] | None) -> list[Step]:
    from .registry import connect

    with connect(settings, log=log) as service:
        try:
            seen = service.probe()
            steps = [Step("credentials", "ok", f"{settings.auth.method} accepted; {seen}")]
        except BackupshareError as exc:
            steps = [fail("credentials", exc)]
    # Even a refused request brings the server's Date: a skewed clock is a common cause.
    if service.server_date is not None:
        steps.append(_clock(settings, service.server_date))
    return steps


def _clock(settings: Settings, server_date: str) -> Step:
    try:
        server = parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return Step("clock", "warn", f"unreadable Date header {server_date!r}")
    if server.tzinfo is None:  # `-0000` (RFC 5322): UTC, and never compared naive
        server = server.replace(tzinfo=timezone.utc)
    skew = (datetime.now(timezone.utc) - server).total_seconds()
    detail = f"local clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the server"
    if abs(skew) > SKEW_LIMIT and settings.auth.method == "aksk":
        return Step(
            "clock",
            "fail",
            detail + "; AK/SK signatures are rejected beyond 15 min",
            "synchronise the clock (NTP)",
            4,
        )
    if abs(skew) > SKEW_WARN:
        return Step("clock", "warn", detail, "synchronise the clock (NTP)")
    return Step("clock", "ok", detail)
