"""TLS for real: an https emulator with a self-signed certificate, verification always on, and
`ca_bundle` adding trust (not replacing the usual CAs)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.errors import TlsError, UnavailableError
from backupshare.models import ListQuery
from backupshare.trust import TrustStore
from backupshare.vbs import Vbs

from .helpers import OWN, token_settings

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tls")
    pem = folder / "emulator.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=backupshare-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(pem), "-out", str(pem)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return pem


@pytest.fixture
def https_emulator(certificate: Path) -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(tls_cert=str(certificate))) as running:
        assert running.url.startswith("https://127.0.0.1:")
        yield running


def test_an_unknown_ca_is_refused(https_emulator: RunningEmulator) -> None:
    api = Vbs.connect(token_settings(https_emulator.url, retries=0))
    with pytest.raises(
        UnavailableError, match=r"TLS verification failed for 127\.0\.0\.1"
    ) as caught:
        api.count(ListQuery())
    assert caught.value.hint and "ca_bundle" in caught.value.hint


def test_ca_bundle_adds_trust(
    https_emulator: RunningEmulator, certificate: Path, tmp_path: Path
) -> None:
    api = Vbs.connect(
        token_settings(https_emulator.url, ca_bundle=str(certificate), cache_dir=tmp_path)
    )
    assert api.count(ListQuery()) == 0
    store = Path(str(api.http._trust.verify()))
    import os
    import stat

    import certifi

    usual = os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where()
    assert store.read_text().startswith(Path(usual).read_text())  # the usual CAs stay trusted
    assert certificate.read_text().split("-----BEGIN CERTIFICATE-----")[1] in store.read_text()
    assert stat.S_IMODE(store.stat().st_mode) == 0o600  # private, made for this invocation
    api.close()
    assert not store.exists()  # and gone with it


def test_a_ca_planted_in_the_cache_is_not_trusted(
    https_emulator: RunningEmulator, certificate: Path, tmp_path: Path
) -> None:
    """Earlier versions reused `ca-<hash>.pem` from the cache directory unchecked. An attacker's
    CA planted under that name (here: the emulator's certificate, beside a harmless ca_bundle)
    must give no trust: the combined bundle is built afresh every time."""
    import hashlib
    import os

    import certifi

    harmless = tmp_path / "harmless.pem"
    harmless.write_bytes(b"")
    usual = Path(os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where()).read_bytes()
    name = hashlib.sha256(usual + b"\n" + harmless.read_bytes()).hexdigest()[:24]
    (tmp_path / f"ca-{name}.pem").write_bytes(usual + b"\n" + certificate.read_bytes())
    api = Vbs.connect(
        token_settings(https_emulator.url, ca_bundle=str(harmless), cache_dir=tmp_path)
    )
    with pytest.raises(UnavailableError, match="TLS verification failed"):
        api.count(ListQuery())
    api.close()


def test_trust_store_without_bundle_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert TrustStore(None).verify() is True


def test_cli_with_ca_bundle_profile_and_doctor(
    https_emulator: RunningEmulator, certificate: Path, cli: Any, isolated: Path
) -> None:
    config = isolated / "config.yaml"
    config.write_text(
        f"profiles:\n  tls:\n    endpoint: {https_emulator.url}\n    project_id: {OWN}\n"
        f"    ca_bundle: {certificate}\n    auth: {{method: token, token_env: TOK}}\n"
    )
    config.chmod(0o600)
    import os

    os.environ["TOK"] = "emulator-token"
    try:
        # the cli fixture exports BACKUPSHARE_ENDPOINT (plain http): the flag outranks it
        tls = ["--config", str(config), "-p", "tls", "--endpoint", https_emulator.url]
        result = cli(*tls, "list-shares", "--count")
        assert (result.code, result.out) == (0, "0\n")
        doctor = cli(*tls, "doctor", "-o", "json")
        import json

        steps = {s["check"]: s for s in json.loads(doctor.out)}
        assert steps["tls"]["status"] == "ok" and "certificate verified" in steps["tls"]["detail"]
        refused = cli("--endpoint", https_emulator.url, "--retries", "0", "list-shares")
        assert refused.code == 8
        assert refused.err.startswith("error: TLS verification failed for 127.0.0.1:")
        assert "certificate verify failed: self-signed certificate (HTTP" not in refused.err
        assert "certificate verify failed: self-signed certificate" in refused.err
    finally:
        del os.environ["TOK"]


def test_an_untrusted_certificate_is_not_retried(https_emulator: RunningEmulator) -> None:
    waits: list[float] = []
    api = Vbs.connect(token_settings(https_emulator.url, retries=3), sleep=waits.append)
    with pytest.raises(TlsError) as caught:
        api.count(ListQuery())
    assert waits == []  # the same certificate would be met again: no backoff, no retry
    assert caught.value.exit_code == 8 and caught.value.to_dict()["type"] == "tls"


def test_a_name_mismatch_is_reported_whole(tmp_path: Path) -> None:
    """The reason used to be cut at the first quote: "… is not valid for" and nothing more."""
    pem = tmp_path / "other.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=elsewhere", "-addext", "subjectAltName=DNS:elsewhere.example",
         "-keyout", str(pem), "-out", str(pem)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    with start(EmulatorConfig(tls_cert=str(pem))) as running:
        api = Vbs.connect(token_settings(running.url, ca_bundle=str(pem), cache_dir=tmp_path))
        with pytest.raises(TlsError) as caught:
            api.count(ListQuery())
        api.close()
    assert caught.value.message.endswith(
        "certificate verify failed: IP address mismatch, certificate is not valid for '127.0.0.1'."
    )
