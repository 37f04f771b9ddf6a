"""HTTP: one pooled requests session, deadlines, retries, no redirects, proxies and trust.

This is the only module that imports requests; vbs.py and cbr.py say what each call means,
responses.py what an error answer says, paging.py how pages add up to a listing.
Every answer that is not what docs/wire.md documents leaves here as one of our exceptions
(errors.py), carrying status, service code, message, request ids and a hint — never a KeyError
or a JSONDecodeError.
"""

from __future__ import annotations

import _thread
import heapq
import itertools
import json
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, NamedTuple

import requests
import urllib3.connection
import urllib3.connectionpool

from . import __version__
from .auth import (
    AkSkAuth,
    IssuedToken,
    PasswordAuth,
    Secret,
    TokenAuth,
    parse_expiry,
    utc_now,
)
from .config import Settings, is_loopback, mask_url, normalized_proxy, url_problem
from .errors import (
    AuthError,
    BackupshareError,
    ConfigError,
    TlsError,
    UnavailableError,
    UnexpectedResponse,
)
from .pause import SharedPause
from .responses import (
    decode_json,
    error_from_response,
    parse_retry_after,
    redact_body,
    redact_headers,
    request_ids,
    snippet,
)
from .trust import TrustStore

if TYPE_CHECKING:
    from .auth import Clock

CONNECT_TIMEOUT = 10.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that say the request was not carried out (throttled, or the service unavailable);
# the other retried statuses may come after the work was done (a gateway lost the answer).
REFUSED_STATUSES = frozenset({429, 503})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 20.0
RETRY_AFTER_CAP = 60.0
# A runaway body is an error, not an out-of-memory: the largest legitimate page is far smaller.
MAX_BODY_BYTES = 64 * 1024 * 1024

Logger = Callable[[str], None]


class Client:
    """HTTP for one invocation: one pooled session, auth, attempt deadlines, retries of what
    is safe, no redirects, and every failure turned into one of our errors. What the calls
    mean is the service modules' (vbs.py, cbr.py)."""

    def __init__(
        self,
        settings: Settings,
        *,
        log: Logger | None = None,
        pool_size: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.invocation_id = str(uuid.uuid4())
        self._log = log
        self._sleep = sleep
        self._jitter = jitter
        self.session = requests.Session()
        # Proxies and trust come from us alone (below), never from requests' reading of the
        # environment or ~/.netrc, so a loopback endpoint can never be sent through a proxy.
        self.session.trust_env = False
        adapter = DeadlineAdapter(pool_connections=2, pool_maxsize=max(pool_size, 2))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers["User-Agent"] = f"backupshare/{__version__}"
        self.session.headers["X-Client-Request-Id"] = self.invocation_id
        self._trust = TrustStore(settings.ca_bundle)
        self.auth = self._make_auth(clock)
        self.last_date: str | None = None  # the server's Date header, for doctor's clock check
        self.received_bytes = 0  # every body read, for the listings' byte bound
        # One request budget for every thread of this invocation (a fan-out's workers): a
        # 429/503 with Retry-After pauses them all, not only the request that met it.
        self.pause = SharedPause(sleep)

    def byte_counter(self) -> Callable[[], int]:
        """The body bytes read from now on, as a listing's byte bound counts them (one counter
        may span several listings that make one, as CBR's offers by member status do)."""
        start = self.received_bytes
        return lambda: self.received_bytes - start

    def close(self) -> None:
        self.session.close()
        self._trust.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one call, with retries --------------------------------------------------------------
    def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        read: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Sends one request, retrying what is safe; returns the decoded JSON body (or None),
        or what `read` makes of it: a body not of the shape `read` expects (UnexpectedResponse)
        is then reported as every answer is, with its HTTP status, request ids and request."""
        with self._naming_errors():
            body, _, answer = self._attempts(method, url, params, json_body)
            if read is None:
                return body
            try:
                return read(body)
            except UnexpectedResponse as exc:
                _name_the_answer(exc, method, url, answer)
                raise

    def delete(self, url: str, *, params: dict[str, str] | None = None) -> bool:
        """Sends a DELETE, retrying as `call` does. True when a retry found nothing left to
        delete after an attempt whose outcome was unknown (that attempt most likely did it);
        a 404 otherwise is NotFoundError."""
        with self._naming_errors():
            _, gone_after_unknown, _ = self._attempts("DELETE", url, params, None)
        return gone_after_unknown

    @contextmanager
    def _naming_errors(self) -> Iterator[None]:
        """Every error leaving a request names this invocation's client request id."""
        try:
            yield
        except BackupshareError as exc:
            exc.client_request_id = self.invocation_id
            raise

    def _attempts(
        self, method: str, url: str, params: Any, json_body: Any
    ) -> tuple[Any, bool, Answered | None]:
        """(the decoded body, whether a retried DELETE found its target already gone, the
        answer's status and request ids)"""
        safe = method in ("GET", "DELETE")
        attempts = 1 + (self.settings.retries if safe else 0)
        relogged = False
        attempt = 0
        outcome_unknown = False  # did an earlier attempt perhaps take effect?
        while True:
            attempt += 1
            self.pause.wait()
            try:
                response, raw = self._send(method, url, params, json_body, None)
            except (UnexpectedResponse, TlsError):
                raise  # an unreadable answer or an untrusted certificate: the same next time
            except UnavailableError as exc:
                if exc.status is not None:
                    raise  # a redirect (it has a status) is an answer, not a lost one
                if attempt >= attempts:  # say how hard it tried: 1 attempt is a POST, not retried
                    exc.message += f" ({attempt} attempt{'' if attempt == 1 else 's'})"
                    raise
                outcome_unknown = True
                self.backoff(attempt, None, str(exc))
                continue
            status = response.status_code
            if 200 <= status < 300:
                answered = Answered(status, request_ids(response.headers))
                return _decode_success(response, raw, method), False, answered
            if status == 404 and method == "DELETE" and outcome_unknown:
                self.debug("404 on a retried DELETE: the earlier, unanswered attempt took effect")
                return None, True, None
            if status == 401 and isinstance(self.auth, PasswordAuth) and not relogged:
                relogged = True
                self.debug("401: the token was refused; logging in again once")
                self.auth.renew()
                continue
            if safe and status in RETRY_STATUSES and attempt < attempts:
                outcome_unknown = outcome_unknown or status not in REFUSED_STATUSES
                retry_after = response.headers.get("Retry-After")
                if status in REFUSED_STATUSES and parse_retry_after(retry_after) is not None:
                    self._pause_everyone(attempt, retry_after, f"HTTP {status}")
                else:
                    self.backoff(attempt, retry_after, f"HTTP {status}")
                continue
            raise error_from_response(status, response.headers, raw, url=url)

    def _send(
        self, method: str, url: str, params: Any, json_body: Any, auth: Any
    ) -> tuple[requests.Response, bytes]:
        started = time.monotonic()
        self._debug_request(method, url, params, json_body)
        limit = self.settings.timeout
        deadline = Deadline(limit)
        try:
            with deadline:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    auth=auth or self.auth,
                    timeout=(CONNECT_TIMEOUT, limit),
                    proxies=proxies_for(url, self.settings.proxy),
                    verify=self._trust.verify(),
                    stream=True,
                    allow_redirects=False,  # a credential never follows a Location
                )
                raw = _read_bounded(response)
                self.received_bytes += len(raw)
        except requests.exceptions.SSLError as exc:
            raise TlsError(
                f"TLS verification failed for {_host(url)}: {_reason(exc)}",
                hint="if a corporate CA signs this endpoint, set `ca_bundle` in the profile",
            ) from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout):
            raise _timed_out(url, limit) from None
        except requests.exceptions.InvalidHeader:
            # Its text holds the header's value, which may be a credential: never shown.
            raise ConfigError("a credential cannot be sent in an HTTP header") from None
        except requests.exceptions.InvalidURL:
            raise UnavailableError(f"invalid URL {_host(url)}") from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
            if deadline.expired:
                raise _timed_out(url, limit) from None
            raise UnavailableError(
                f"cannot reach {_host(url)}: {_reason(exc)}",
                hint="check the endpoint, your network and proxy settings (`backupshare doctor`)",
            ) from None
        if deadline.expired:  # cut short by the deadline: whatever arrived is not the answer
            raise _timed_out(url, limit)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.last_date = response.headers.get("Date") or self.last_date
        self._debug_response(method, url, response, elapsed_ms)
        if 300 <= response.status_code < 400:
            raise _redirected(response, url)
        return response, raw

    def backoff(self, attempt: int, retry_after: str | None, reason: str) -> None:
        """Waits before retry `attempt`: Retry-After (capped) or exponential full jitter."""
        delay = self._jitter() * min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        server_delay = parse_retry_after(retry_after)
        if server_delay is not None:
            delay = min(server_delay, RETRY_AFTER_CAP)
        self.debug(f"retry {attempt}/{self.settings.retries} in {delay:.2f} s after {reason}")
        self._sleep(delay)

    def _pause_everyone(self, attempt: int, retry_after: str | None, reason: str) -> None:
        """The service said when to come back: every thread of this client waits that long
        (the next attempt of each waits on the pause), this one included."""
        delay = min(parse_retry_after(retry_after) or 0.0, RETRY_AFTER_CAP)
        self.debug(
            f"retry {attempt}/{self.settings.retries} in {delay:.2f} s after {reason}"
            " (every request of this run waits)"
        )
        self.pause.hold(delay)

    # -- auth ----------------------------------------------------------------------------------
    def _make_auth(self, clock: Clock) -> Any:
        auth = self.settings.auth
        if auth.method == "token":
            assert auth.token is not None
            return TokenAuth(auth.token)
        if auth.method == "aksk":
            assert auth.access_key is not None and auth.secret_key is not None
            return AkSkAuth(
                auth.access_key,
                auth.secret_key,
                self.settings.project_id,
                auth.security_token,
                clock=clock,
            )
        assert auth.username and auth.password and auth.domain and auth.iam_endpoint
        return PasswordAuth(
            iam_endpoint=auth.iam_endpoint,
            domain=auth.domain,
            username=auth.username,
            password=auth.password,
            project_id=self.settings.project_id,
            fetch=self._fetch_token,
            cache_dir=self.settings.cache_dir,
            clock=clock,
        )

    def _fetch_token(self, body: dict[str, Any]) -> IssuedToken:
        """IAM password login: 201 with the token in X-Subject-Token."""
        with self._naming_errors():
            return self._login(body)

    def _login(self, body: dict[str, Any]) -> IssuedToken:
        assert self.settings.auth.iam_endpoint
        url = f"{self.settings.auth.iam_endpoint}/v3/auth/tokens"
        response, raw = self._send("POST", url, None, body, _no_auth)
        if response.status_code >= 300:
            error = error_from_response(response.status_code, response.headers, raw, url=url)
            if response.status_code in (400, 401, 403):
                raise AuthError(
                    f"IAM refused the login of user {self.settings.auth.username!r}: "
                    f"{error.message}",
                    hint="check username, password and domain (the account name) of the profile",
                    status=error.status,
                    code=error.code,
                    request_ids=error.request_ids,
                )
            raise error
        token = response.headers.get("X-Subject-Token")
        try:
            expires = parse_expiry(decode_json(raw)["token"]["expires_at"])
        except (ValueError, KeyError, TypeError):
            raise UnexpectedResponse("unexpected response from IAM: no token expiry") from None
        if not token:
            raise UnexpectedResponse("unexpected response from IAM: no X-Subject-Token header")
        return IssuedToken(Secret(token), expires)

    # -- debug log -----------------------------------------------------------------------------
    def debug(self, line: str) -> None:
        if self._log is not None:
            self._log(line)

    def _debug_request(self, method: str, url: str, params: Any, body: Any) -> None:
        if self._log is None:
            return
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        self._log(f"> {method} {url}{query} (client request id {self.invocation_id})")
        if body is not None:
            self._log(f"> body {json.dumps(redact_body(body))}")

    def _debug_response(
        self, method: str, url: str, response: requests.Response, elapsed_ms: float
    ) -> None:
        if self._log is None:
            return
        # The headers as sent (auth adds its own while preparing), then the answer.
        sent = response.request.headers if response.request is not None else {}
        self._log("> headers " + json.dumps(redact_headers(dict(sent))))
        ids = ", ".join(request_ids(response.headers)) or "none"
        self._log(
            f"< {response.status_code} {method} {url} in {elapsed_ms:.0f} ms (request id {ids})"
        )


def proxies_for(url: str, proxy: str | None) -> dict[str, str]:
    """The proxy for one URL: none for loopback (a token must not cross a proxy in clear to
    reach the emulator), else the profile's, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if is_loopback(host):
        return {}
    if proxy:
        return {"http": proxy, "https": proxy}
    from requests.utils import get_environ_proxies

    found = {}
    for scheme, value in get_environ_proxies(url).items():
        if scheme not in ("http", "https"):
            continue
        found[scheme] = normalized_proxy(value)  # checked like a configured proxy
        problem = url_problem(found[scheme], proxy=True)
        if problem:
            raise ConfigError(
                f"proxy (env {scheme.upper()}_PROXY): {problem}",
                hint="fix or unset HTTPS_PROXY / HTTP_PROXY, or set `proxy` in the profile",
            )
    return found


# -- the attempt deadline --------------------------------------------------------------------------
_ACTIVE = threading.local()  # the deadline of the attempt running in this thread


class Deadline:
    """One attempt's deadline over connect, headers and the whole body. A per-read timeout
    restarts with every byte, so a server that drips its answer could hold a call for ever;
    when this deadline passes, the attempt's socket is shut down and the call ends."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self.finished = False
        self._seconds = seconds
        self._connection: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Deadline:
        _ACTIVE.deadline = self
        WATCHDOG.watch(self, self._seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.finished = True
        _ACTIVE.deadline = None

    def attach(self, connection: Any) -> None:
        """Called by the connection that carries this attempt, as the request starts."""
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)


class Watchdog:
    """One daemon thread that expires the deadlines that pass. A timer thread per attempt
    cost its start-up on every request (≈ 0.4 ms on a loaded machine, 40 ms over a listing of
    100 pages); this thread starts once and sleeps until the earliest deadline."""

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []  # a heap, earliest first
        self._order = itertools.count()  # ties are broken by arrival, never by Deadline
        self._started = False

    def watch(self, deadline: Deadline, seconds: float) -> None:
        with self._wakeup:
            entry = (time.monotonic() + seconds, next(self._order), deadline)
            heapq.heappush(self._due, entry)
            if not self._started:
                # Not threading.Thread.start(): it blocks until the OS has scheduled the new
                # thread (0.1-6 ms measured on a loaded 2-core machine, on the first request of
                # every command); this returns at once. Like a daemon thread, it is not joined
                # at exit; it names itself for threading.enumerate() when it runs.
                _thread.start_new_thread(self._run, ())
                self._started = True
            self._wakeup.notify()

    def _run(self) -> None:
        threading.current_thread().name = "backupshare-deadlines"
        with self._wakeup:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)  # ended in time: nothing to do
                if not self._due:
                    self._wakeup.wait()
                    continue
                left = self._due[0][0] - time.monotonic()
                if left > 0:
                    self._wakeup.wait(left)
                    continue
                heapq.heappop(self._due)[2].expire()


WATCHDOG = Watchdog()


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, under any TLS


class _ReportsToDeadline:
    """Mixed into urllib3's connections: as a request starts, the connection tells the
    running attempt's Deadline which socket to shut down when time is up."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        deadline = getattr(_ACTIVE, "deadline", None)
        if deadline is not None:
            deadline.attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _DeadlineHTTPConnection(_ReportsToDeadline, urllib3.connection.HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_ReportsToDeadline, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections report to the running attempt's Deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def _timed_out(url: str, limit: float) -> UnavailableError:
    return UnavailableError(
        f"no answer from {_host(url)} within {limit:g} s",
        hint="the service is slow or unreachable; raise --timeout or retry later",
    )


def _redirected(response: requests.Response, url: str) -> UnavailableError:
    location = response.headers.get("Location") or "(no Location)"
    return UnavailableError(
        f"{_host(url)} answered HTTP {response.status_code} redirecting to {mask_url(location)}; "
        "redirects are not followed",
        hint="check the endpoint: give the service's own URL (credentials are never sent on)",
        status=response.status_code,
        request_ids=request_ids(response.headers),
    )


def _no_auth(request: Any) -> Any:
    return request


# -- reading answers -----------------------------------------------------------------------------
def _read_bounded(response: requests.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            response.close()
            raise UnexpectedResponse(
                f"unexpected response: the body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MiB",
                status=response.status_code,
                request_ids=request_ids(response.headers),
            )
        chunks.append(chunk)
    return b"".join(chunks)


class Answered(NamedTuple):
    """What identifies a 2xx answer, for an error about its body."""

    status: int
    request_ids: tuple[str, ...]


def _name_the_answer(
    error: UnexpectedResponse, method: str, url: str, answer: Answered | None
) -> None:
    """A body of the wrong shape, reported like any other error about an answer: which
    request it answered (method and path), its HTTP status and request ids."""
    from urllib.parse import urlsplit

    if answer is not None and error.status is None:
        error.status, error.request_ids = answer.status, answer.request_ids
    error.message += f", in the answer to {method} {urlsplit(url).path}"


def _decode_success(response: requests.Response, raw: bytes, method: str) -> Any:
    if not raw.strip():
        if method in ("DELETE",):
            return None
        raise UnexpectedResponse(
            f"unexpected response: HTTP {response.status_code} with an empty body",
            status=response.status_code,
            request_ids=request_ids(response.headers),
        )
    try:
        return decode_json(raw)
    except (UnicodeDecodeError, ValueError):
        if method == "DELETE":
            return None  # DELETE documents no body; whatever came with the 2xx is not ours
        kind = response.headers.get("Content-Type", "unknown content type")
        raise UnexpectedResponse(
            f"unexpected response: HTTP {response.status_code} is not JSON ({kind}): "
            f"{snippet(raw)}",
            hint="a proxy or portal may be answering instead of the service; check the endpoint",
            status=response.status_code,
            request_ids=request_ids(response.headers),
        ) from None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _reason(exc: Exception) -> str:
    """The innermost useful reason of a requests error, without its nested reprs."""
    text = str(exc)
    verify = re.search(r"certificate verify failed: (.+?)(?: \(_ssl\.c:\d+\)|['\")\]]*$)", text)
    if verify:  # whole, up to OpenSSL's source location: "Hostname mismatch, … for 'x'."
        return f"certificate verify failed: {verify.group(1).strip()}"
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text.strip("()'\" ")
    if "[Errno" in text:
        text = text[text.index("[Errno") :].rstrip("'\")")
    if "Connection aborted" in text or "RemoteDisconnected" in text:
        return "the connection was closed without an answer"
    if "ConnectionResetError" in text or "Connection reset" in text:
        return "the connection was reset"
    return text[:200] or exc.__class__.__name__
