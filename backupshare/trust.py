"""What verifies TLS for the client and for doctor: the usual CAs plus a profile's `ca_bundle`,
combined in a private temp file (no HTTP here, so it stands apart from client.py)."""

from __future__ import annotations

from contextlib import suppress

from .errors import ConfigError


class TrustStore:
    """What verifies TLS: the usual CAs, plus `ca_bundle`'s when given (it adds, not replaces).
    The usual CAs are REQUESTS_CA_BUNDLE's or CURL_CA_BUNDLE's where set, else certifi's. The
    combined bundle is written afresh for each invocation to a private temp file and removed
    on close: a bundle found lying in a shared place is never trusted."""

    def __init__(self, ca_bundle: str | None) -> None:
        self.ca_bundle = ca_bundle
        self._path: str | None = None

    def verify(self) -> str | bool:
        import os

        if not self.ca_bundle:
            return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        if self._path is None:
            self._path = self._combine(self.ca_bundle)
        return self._path

    def close(self) -> None:
        import os

        if self._path is not None:
            with suppress(OSError):
                os.unlink(self._path)
            self._path = None

    @staticmethod
    def _combine(ca_bundle: str) -> str:
        import os
        import tempfile
        from pathlib import Path

        import certifi

        base = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where()
        )
        try:
            extra = Path(ca_bundle).read_bytes()
        except OSError as exc:
            raise ConfigError(f"ca_bundle {ca_bundle} cannot be read: {exc.strerror}") from None
        try:
            usual = Path(base).read_bytes()
        except OSError:
            usual = Path(certifi.where()).read_bytes()
        fd, path = tempfile.mkstemp(prefix="backupshare-ca-", suffix=".pem")  # 0600, O_EXCL
        with os.fdopen(fd, "wb") as handle:
            handle.write(usual + b"\n" + extra)
        return path
