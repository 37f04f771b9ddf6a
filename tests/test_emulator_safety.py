"""Who may reach the emulator and what it shows them: loopback binds, the admin API, redaction."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
import requests

from backupshare.auth import login_body
from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.safety import (
    ADMIN_KEY_HEADER,
    admin_key_matches,
    is_loopback,
    redact_body,
    serves_loopback_only,
)
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BIN, OWN, terminated

SHARING = f"/v2/{OWN}/os-vendor-backup-sharing"


# -- the checks, as functions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # an IPv4 client on a dual-stack socket
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("192.0.2.2", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1%eth0", False),
        ("localhost", False),  # a name, not an address: a peer is always an address
        ("", False),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


@pytest.mark.parametrize(
    ("host", "alone"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("", False),  # every address
        ("::", False),
        ("192.0.2.2", False),
    ],
)
def test_serves_loopback_only(host: str, alone: bool) -> None:
    assert serves_loopback_only(host) is alone


def test_admin_key_matches_only_a_configured_key() -> None:
    assert admin_key_matches("k3y", "k3y")
    assert not admin_key_matches("k3y", "other")
    assert not admin_key_matches("", None)
    assert not admin_key_matches("", "")  # an empty key configured is no key


def test_redact_body_hides_passwords_secrets_and_tokens_keeps_the_rest() -> None:
    login = login_body("emulator-user", "emulator-password", "acme", OWN)
    shown = json.loads(redact_body(json.dumps(login)))
    user = shown["auth"]["identity"]["password"]["user"]
    assert user == {"name": "emulator-user", "password": "***", "domain": {"name": "acme"}}
    assert shown["auth"]["identity"]["methods"] == ["password"]
    assert shown["auth"]["scope"] == login["auth"]["scope"]
    temporary = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": "tok-1", "duration_seconds": 900}}
        }
    }
    token = json.loads(redact_body(json.dumps(temporary)))["auth"]["identity"]["token"]
    assert token == {"id": "***", "duration_seconds": 900}
    keys = {"access": "AK", "secret_key": "SK", "security_token": "ST", "passwd": "pw"}
    assert json.loads(redact_body(json.dumps(keys))) == {
        "access": "AK",
        "secret_key": "***",
        "security_token": "***",
        "passwd": "***",
    }
    share = '{"shared": {"backup_id": "b", "to_project_ids": ["p"]}}'
    assert json.loads(redact_body(share)) == json.loads(share)
    assert redact_body("user=u&password=hunter2") == "***"  # not JSON: all or nothing
    assert redact_body("{not json") == "{not json"
    assert redact_body("") == ""


# -- the admin API over loopback HTTP --------------------------------------------------------------
def send_credentials(running: RunningEmulator) -> None:
    """A token request, a signed-looking one with a security token, and an IAM password login."""
    url = running.url
    requests.get(f"{url}{SHARING}/count", headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=5)
    requests.get(
        f"{url}{SHARING}/count",
        headers={
            "Authorization": "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=00",
            "X-Security-Token": "security-token-value",
            "X-Subject-Token": "subject-token-value",
        },
        timeout=5,
    )
    body = login_body("emulator-user", "emulator-password", "acme", OWN)
    assert requests.post(f"{url}/v3/auth/tokens", json=body, timeout=5).status_code == 201


SECRETS = (
    DEFAULT_TOKEN,
    "SDK-HMAC-SHA256",
    "security-token-value",
    "subject-token-value",
    "emulator-password",
)


def test_request_log_over_http_hides_credentials(emulator: RunningEmulator) -> None:
    send_credentials(emulator)
    response = requests.get(f"{emulator.url}/_emulator/requests", timeout=5)
    assert response.status_code == 200
    log = response.json()
    assert [entry["path"] for entry in log] == [f"{SHARING}/count"] * 2 + ["/v3/auth/tokens"]
    assert all(secret not in response.text for secret in SECRETS)
    assert log[0]["headers"]["X-Auth-Token"] == "***"
    assert log[1]["headers"]["Authorization"] == "***"
    assert log[1]["headers"]["X-Security-Token"] == "***"
    assert log[1]["headers"]["X-Subject-Token"] == "***"
    user = json.loads(log[2]["body"])["auth"]["identity"]["password"]["user"]
    assert (user["name"], user["password"]) == ("emulator-user", "***")
    # The in-process log, which tests read, keeps everything.
    assert emulator.logged()[0]["headers"]["X-Auth-Token"] == DEFAULT_TOKEN


def test_no_admin_key_configured_never_reveals(emulator: RunningEmulator) -> None:
    send_credentials(emulator)
    asked = requests.get(
        f"{emulator.url}/_emulator/requests", headers={ADMIN_KEY_HEADER: "guess"}, timeout=5
    )
    assert asked.status_code == 403
    assert asked.json()["error_code"] == "EMULATOR.0403"
    assert asked.json()["error_msg"] == "No admin key was configured: start with --admin-key."
    assert all(secret not in asked.text for secret in SECRETS)


@pytest.fixture
def keyed() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig(admin_key="s3cret-admin-key")) as running:
        yield running


def test_the_admin_key_reveals_and_a_wrong_one_is_refused(keyed: RunningEmulator) -> None:
    send_credentials(keyed)
    url = f"{keyed.url}/_emulator/requests"
    wrong = requests.get(url, headers={ADMIN_KEY_HEADER: "s3cret-admin-kez"}, timeout=5)
    assert wrong.status_code == 403
    assert wrong.json()["error_msg"] == f"Wrong {ADMIN_KEY_HEADER}."
    assert all(secret not in wrong.text for secret in SECRETS)
    without = requests.get(url, timeout=5)
    assert without.status_code == 200
    assert all(secret not in without.text for secret in SECRETS)
    revealed = requests.get(url, headers={ADMIN_KEY_HEADER: "s3cret-admin-key"}, timeout=5)
    assert revealed.status_code == 200
    log = revealed.json()
    assert log[0]["headers"]["X-Auth-Token"] == DEFAULT_TOKEN
    assert log[1]["headers"]["X-Security-Token"] == "security-token-value"
    assert json.loads(log[2]["body"]) == login_body(
        "emulator-user", "emulator-password", "acme", OWN
    )


# -- binding beyond loopback -----------------------------------------------------------------------
REFUSED = (
    "error: refusing to listen on 0.0.0.0: not a loopback address, so other machines could use "
    "the emulator and its public test credentials\n"
    "hint: use --host 127.0.0.1, or add --allow-remote to serve other machines on purpose\n"
)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--host", "0.0.0.0"], {}),
        ([], {"BACKUPSHARE_EMULATOR_HOST": "0.0.0.0"}),
        (["--host", "0.0.0.0"], {"BACKUPSHARE_EMULATOR_ALLOW_REMOTE": "0"}),
    ],
)
def test_a_non_loopback_host_needs_allow_remote(
    argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    done = subprocess.run(
        [str(BIN), "emulator", "--port", "0", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", REFUSED)


@pytest.mark.e2e
def test_a_bad_allow_remote_variable_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_ALLOW_REMOTE", "maybe")
    done = subprocess.run(
        [str(BIN), "emulator", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: BACKUPSHARE_EMULATOR_ALLOW_REMOTE='maybe': expected 1 or 0 (true/false, yes/no)\n"
        "hint: see 'backupshare emulator --help'\n"
    )


@pytest.mark.e2e
@pytest.mark.parametrize("how", ["flag", "env"])
def test_allow_remote_serves_with_a_loud_warning(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = [str(BIN), "emulator", "--host", "0.0.0.0", "--port", "0"]
    if how == "flag":
        argv.append("--allow-remote")
    else:
        monkeypatch.setenv("BACKUPSHARE_EMULATOR_ALLOW_REMOTE", "true")
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )  # fmt: skip
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        port = url.rsplit(":", 1)[1]
        warning = [process.stderr.readline() for _ in range(3)]
        assert warning == [
            f"WARNING: the emulator listens on http://0.0.0.0:{port}, which other machines may "
            "reach.\n",
            "WARNING: its credentials are public test values: anyone who can connect can use "
            "them.\n",
            "WARNING: use it only on a network you trust; the admin API (/_emulator/*) still "
            "answers loopback clients only.\n",
        ]
        # Reached over loopback, the admin API still answers.
        admin = requests.get(f"http://127.0.0.1:{port}/_emulator/backups", timeout=5)
        assert admin.status_code == 200
    finally:
        terminated(process)
    assert process.returncode == 0


@pytest.mark.e2e
def test_allow_remote_on_loopback_says_nothing() -> None:
    process = subprocess.Popen(
        [str(BIN), "emulator", "--port", "0", "--allow-remote"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("backupshare emulator listening on http://127.")
    finally:
        _, err = terminated(process)
    assert process.returncode == 0 and err == ""
