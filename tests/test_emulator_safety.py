"""Who may reach the emulator and what it shows them: loopback binds, the admin API, redaction."""

from __future__ import annotations

import json
import socket
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

from .conftest import OWN

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
    assert emulator.emulator.logged()[0]["headers"]["X-Auth-Token"] == DEFAULT_TOKEN


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


def outbound_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if is_loopback(address) else address


def test_admin_api_refuses_a_peer_that_is_not_loopback() -> None:
    # Bound to this machine's own network address and reached through it, the peer address is
    # that address too: a real non-loopback client, without a second machine.
    address = outbound_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with start(EmulatorConfig(), host=address) as running:
        for method, path in [("GET", "requests"), ("POST", "seed"), ("DELETE", "faults")]:
            refused = requests.request(
                method, f"{running.url}/_emulator/{path}", json={"shares": 5}, timeout=5
            )
            assert refused.status_code == 403, (method, path)
            assert refused.json()["error_code"] == "EMULATOR.0403"
            assert refused.json()["error_msg"] == "The admin API answers loopback clients only."
        assert running.emulator.store.count(OWN, {}) == 0  # the seed did not happen
        # The service itself answers (its credentials are what guard it).
        served = requests.get(
            f"{running.url}{SHARING}/count", headers={"X-Auth-Token": DEFAULT_TOKEN}, timeout=5
        )
        assert served.json() == {"count": 0}
