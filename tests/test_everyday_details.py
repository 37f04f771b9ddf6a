"""The small things people reached for (issue 10, point 9): did-you-mean and `help`, cancel by a
file of ids, a confirmation that names what it ends, sharings made *to* this project, …"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pexpect
import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, BACKUP2, OWN, P1, P2, PARTNER_BACKUP


# -- mistyped commands and `help` ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "error", "hint"),
    [
        (["shar"], "no such command 'shar'", "did you mean 'share'? see 'backupshare --help'"),
        (["cancle", "x"], "no such command 'cancle'", "did you mean 'cancel'?"),
        (["doctr"], "no such command 'doctr'", "did you mean 'doctor'?"),
        (["config", "shwo"], "no such command 'shwo'", "did you mean 'show'? see 'backupshare config --help'"),
        (["help", "shrae"], "no such command 'shrae'", "did you mean 'share'?"),
        (["help", "config", "nit"], "no such command 'nit'", "did you mean 'init'?"),
        (["frobnicate"], "no such command 'frobnicate'", "commands: share, backups, list-shares, show, cancel"),
    ],
)  # fmt: skip
def test_a_mistyped_command_names_what_was_meant(
    cli: Any, argv: list[str], error: str, hint: str
) -> None:
    result = cli(*argv)
    assert (result.code, result.out) == (2, "")
    first, second = result.err.splitlines()
    assert first == f"error: {error}"
    assert second.startswith("hint: ") and hint in second


@pytest.mark.parametrize("path", [["share"], ["cancel"], ["config", "init"], []])
def test_help_command_prints_the_commands_own_help(cli: Any, path: list[str]) -> None:
    via_help = cli("help", *path)
    via_flag = cli(*path, "--help")
    assert via_help.code == 0 and via_help.err == ""
    assert via_help.out == via_flag.out
    assert via_help.out.startswith(f"Usage: backupshare {' '.join(path)}".rstrip())


# -- cancel --ids-file ---------------------------------------------------------------------------
def share_ids(emulator: RunningEmulator) -> list[str]:
    return sorted(r["id"] for r in emulator.emulator.store.query(OWN, {}))


def test_cancel_reads_ids_from_a_pipe(cli: Any, emulator: RunningEmulator) -> None:
    assert cli("share", BACKUP, P1, P2).code == 0
    assert cli("share", BACKUP2, P1).code == 0
    listed = cli("list-shares", "--backup-id", BACKUP, "-o", "ids")
    result = cli(
        "cancel", "--ids-file", "-", "-o", "json", stdin="# from list-shares\n" + listed.out
    )
    assert result.code == 0, result.err
    assert result.out.count('"canceled"') == 2
    assert [r["backup_id"] for r in emulator.emulator.store.query(OWN, {})] == [BACKUP2]


def test_cancel_ids_file_and_arguments_add_up(
    cli: Any, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", BACKUP, P1, P2).code == 0
    first, second = share_ids(emulator)
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{second}  # the other one\n\n")
    result = cli("cancel", first, "--ids-file", str(ids), "-o", "ids")
    assert result.code == 0, result.err
    assert share_ids(emulator) == []


def test_cancel_ids_file_with_nothing_in_it_is_nothing_to_do(
    cli: Any, emulator: RunningEmulator
) -> None:
    result = cli("cancel", "--ids-file", "-", "-o", "json", stdin="# nothing left\n")
    assert (result.code, result.out) == (0, '{\n  "changed": false,\n  "results": []\n}\n')
    assert emulator.emulator.logged() == []


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        ("not-a-uuid\n", [], "invalid sharing id 'not-a-uuid' (line 1 of standard input): expected a UUID such as 066b1e37-9305-4057-97e5-2e99b21fc71d"),
        ("\x00\x01", [], "--ids-file standard input: binary data, expected one sharing id a line"),
        (f"{BACKUP}\n", ["--backup-id", BACKUP], "give SHARE_IDs (or --ids-file) or --backup-id, not both"),
    ],
)  # fmt: skip
def test_cancel_ids_file_bad_input(
    cli: Any, emulator: RunningEmulator, content: str, argv: list[str], message: str
) -> None:
    result = cli("cancel", "--ids-file", "-", *argv, stdin=content)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0] == f"error: {message}"
    assert emulator.emulator.logged() == []


def test_cancel_ids_file_that_does_not_exist(cli: Any, tmp_path: Path) -> None:
    result = cli("cancel", "--ids-file", str(tmp_path / "nope"))
    assert result.code == 2
    assert result.err.splitlines()[0] == f"error: --ids-file {tmp_path / 'nope'}: no such file"


# -- sharings made to this project ---------------------------------------------------------------
def shared_with_us(emulator: RunningEmulator) -> dict[str, Any]:
    [share] = emulator.emulator.store.query(OWN, {"backup_id": PARTNER_BACKUP}, to_me=True)
    return share


def test_cancelling_a_sharing_made_to_us_says_who_can_end_it(
    cli: Any, emulator: RunningEmulator
) -> None:
    share = shared_with_us(emulator)
    owner = share["from_project_id"]
    result = cli("cancel", share["id"])
    assert result.code == 4
    assert f"sharing {share['id']} was made to this project by project {owner}" in result.out
    assert result.err.splitlines() == [
        f"error: every cancellation failed: sharing {share['id']} was made to this project by "
        f"project {owner}; only that project can end it (client request id "
        + result.err.split("client request id ")[1].split(")")[0]
        + ")",
        f"hint: ask project {owner} to run: backupshare cancel {share['id']}",
    ]
    assert shared_with_us(emulator)["id"] == share["id"]  # still there


def test_a_sharing_that_does_not_exist_is_still_absent(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("cancel", "00000000-0000-4000-8000-000000000000", "-o", "jsonl")
    assert (result.code, result.err) == (0, "")
    assert '"result": "absent"' in result.out


# -- the confirmation names what it ends -----------------------------------------------------------
@pytest.mark.e2e
def test_cancel_prompt_names_backup_and_project_of_bare_ids(emulator: RunningEmulator) -> None:
    from .test_e2e import backupshare, spawn

    backupshare(emulator, "share", BACKUP, P1)
    [mine] = share_ids(emulator)
    theirs = shared_with_us(emulator)
    missing = "00000000-0000-4000-8000-000000000000"
    child = spawn(emulator, "cancel", mine, theirs["id"], missing, COLUMNS="80")
    child.expect(r"Proceed\? \[y/N\] ")
    question = child.before.replace("\r", "").splitlines()
    assert question == [
        "About to end 3 sharings:",
        f"  backup {BACKUP}:",
        f"    {mine}  to {P1}",
        f"  backup {PARTNER_BACKUP}:",
        f"    {theirs['id']}  to {OWN}",
        f"      from {theirs['from_project_id']}: only that project can end it",
        f"  {missing}  (not found: nothing to end)",
    ]
    assert all(len(line) <= 80 for line in question)  # fits an 80-column terminal
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    assert "canceled" not in child.before  # the result word is not said of what was kept
    child.close()
    assert child.exitstatus == 0 and share_ids(emulator) == [mine]


# -- a file with profiles, none selected -----------------------------------------------------------
@pytest.fixture
def two_profiles(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = isolated / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "profiles:\n"
        "  prod: {cloud: otc, region: eu-de, project_id: " + P1 + ", auth: {method: token}}\n"
        "  staging: {cloud: otc, region: eu-nl, project_id: " + P2 + ", auth: {method: token}}\n"
    )
    config.chmod(0o600)
    for name in ("BACKUPSHARE_ENDPOINT", "BACKUPSHARE_PROJECT_ID", "BACKUPSHARE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return config


def test_no_profile_selected_is_named_as_the_problem(cli: Any, two_profiles: Path) -> None:
    result = cli("list-shares")
    assert (result.code, result.out) == (3, "")
    assert result.err.splitlines() == [
        f"error: no profile selected; profiles in {two_profiles}: prod, staging",
        "hint: choose one with --profile prod or BACKUPSHARE_PROFILE=prod, or set "
        "`default_profile: prod` in the file (without a profile: profile 'default' has no "
        "endpoint)",
    ]


def test_doctor_names_the_missing_profile_selection(cli: Any, two_profiles: Path) -> None:
    import json

    result = cli("doctor", "-o", "json")
    assert result.code == 3
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["profile"]["status"] == "fail"
    assert steps["profile"]["detail"].startswith("no profile selected; profiles in")
    assert "--profile prod" in steps["profile"]["fix"]


def test_the_environment_alone_still_works_beside_a_file_of_profiles(
    cli: Any, two_profiles: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", emulator.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", "emulator-token")
    assert cli("list-shares", "--count").out == "0\n"


# -- endpoints from cloud and region in the environment ---------------------------------------------
@pytest.mark.parametrize(
    ("cloud", "region", "endpoint"),
    [
        ("otc", "eu-nl", "https://vbs.eu-nl.otc.t-systems.com"),
        ("huaweicloud", "ap-southeast-1", "https://vbs.ap-southeast-1.myhuaweicloud.com"),
    ],
)
def test_env_only_setups_derive_the_endpoint(
    cli: Any, monkeypatch: pytest.MonkeyPatch, cloud: str, region: str, endpoint: str
) -> None:
    import json

    from backupshare.config import CLOUDS

    assert CLOUDS[cloud]["vbs"].format(region=region) == endpoint
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    monkeypatch.setenv("BACKUPSHARE_CLOUD", cloud)
    monkeypatch.setenv("BACKUPSHARE_REGION", region)
    result = cli("config", "show", "-o", "json")
    assert result.code == 0, result.err
    shown = {row["key"]: row for row in json.loads(result.out)}
    assert shown["endpoint"]["value"] == endpoint
    assert shown["endpoint"]["source"] == "derived from cloud and region"
    assert shown["cloud"]["source"] == "env BACKUPSHARE_CLOUD"


def test_an_unknown_cloud_in_the_environment_is_a_config_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    monkeypatch.setenv("BACKUPSHARE_CLOUD", "aws")
    monkeypatch.setenv("BACKUPSHARE_REGION", "eu-de")
    result = cli("list-shares")
    assert result.code == 3
    assert result.err.splitlines()[0] == (
        "error: cloud 'aws' (env BACKUPSHARE_CLOUD) is not one of otc, huaweicloud"
    )


# -- cached tokens can be dropped ----------------------------------------------------------------
@pytest.mark.e2e
def test_forget_tokens_makes_the_next_command_log_in_again(
    emulator: RunningEmulator, isolated: Path
) -> None:
    from .test_e2e import backupshare

    password = {
        "BACKUPSHARE_TOKEN": "",
        "BACKUPSHARE_USERNAME": "emulator-user",
        "BACKUPSHARE_PASSWORD": "emulator-password",
        "BACKUPSHARE_DOMAIN": "acme",
        "BACKUPSHARE_IAM_ENDPOINT": emulator.url,
        "XDG_CACHE_HOME": str(isolated / "cache"),
    }
    logins = lambda: len(emulator.emulator.logged("POST", "/v3/auth/tokens"))  # noqa: E731
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert logins() == 1  # the cached token served the second run
    forgot = backupshare(emulator, "config", "forget-tokens", **password)
    assert (forgot.returncode, forgot.stdout) == (0, "")
    assert forgot.stderr == f"removed 1 cached token from {isolated / 'cache' / 'backupshare'}\n"
    assert list((isolated / "cache" / "backupshare").iterdir()) == []
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert logins() == 2


# -- config init asks again ----------------------------------------------------------------------
@pytest.mark.e2e
def test_config_init_asks_again_after_a_bad_answer(
    emulator: RunningEmulator, isolated: Path
) -> None:
    from .test_e2e import spawn

    env = {"XDG_CONFIG_HOME": str(isolated / ".config"), "HOME": str(isolated)}
    child = spawn(emulator, "-p", "prod", "config", "init", **env)
    child.expect(r"Backup service \(vbs or cbr\) \[vbs\]: ")
    child.sendline("ebs")
    child.expect(r"service must be one of vbs, cbr; try again")
    child.sendline("")
    child.expect(r"Cloud \(otc or huaweicloud\) \[otc\]: ")
    child.sendline("aws")
    child.expect(r"cloud must be one of otc, huaweicloud; try again \(Ctrl-C to stop\)")
    child.expect(r"Cloud \(otc or huaweicloud\) \[otc\]: ")
    child.sendline("otc")
    child.expect(r"Region \[eu-de\]: ")
    child.sendline("EU DE")
    child.expect("does not look like a region")
    child.expect(r"Region \[eu-de\]: ")
    child.sendline("eu-nl")
    child.expect(r"Project id \(32 hex\): ")
    child.sendline("1234")
    child.expect("a project id is 32 hex characters")
    child.expect(r"Project id \(32 hex\): ")
    child.sendline("")
    child.expect("a project id is 32 hex characters")
    child.sendline(P1.upper())
    child.expect(r"Auth method \(token, password, aksk\) \[aksk\]: ")
    child.sendline("oauth")
    child.expect("auth method must be one of token, password, aksk")
    child.sendline("token")
    child.expect(r"Token \(hidden\): ")
    child.sendline("a-token")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    written = (isolated / ".config" / "backupshare" / "config.yaml").read_text()
    assert "cloud: otc" in written and "region: eu-nl" in written and P1 in written
    assert "service: vbs" in written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cloud", "aws"], "invalid --cloud 'aws': cloud must be one of otc, huaweicloud"),
        (["--region", "EU"], "invalid --region 'EU': 'EU' does not look like a region"),
        (["--project-id", "12"], "invalid --project-id '12': a project id is 32 hex characters"),
        (["--auth-method", "x"], "invalid --auth-method 'x': auth method must be one of token,"),
        (["--endpoint", "ftp://h"], "invalid --endpoint 'ftp://h': "),
    ],
)
def test_config_init_bad_flags_are_usage_errors(
    cli: Any, isolated: Path, argv: list[str], message: str
) -> None:
    base = {"--cloud": "otc", "--project-id": P1, "--auth-method": "token", "--secret-env": "T"}
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        base[flag] = value
    args = [part for pair in base.items() for part in pair]
    result = cli("--config", str(isolated / "c.yaml"), "config", "init", *args)
    assert result.code == 2
    assert result.err.startswith(f"error: {message}")
    assert not (isolated / "c.yaml").exists()


# -- doctor behind a proxy -------------------------------------------------------------------------
@pytest.fixture
def refusing_proxy() -> Any:
    """A loopback 'proxy' that records what it was asked to reach and refuses (502)."""
    import socketserver
    import threading

    asked: list[str] = []

    class Refuse(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            asked.append(self.rfile.readline().decode("latin-1").strip())
            self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_doctor_behind_a_proxy_leaves_dns_to_the_proxy(
    cli: Any, monkeypatch: pytest.MonkeyPatch, refusing_proxy: Any
) -> None:
    import json

    proxy, asked = refusing_proxy
    host = "vbs.eu-de.otc.t-systems.com"  # never resolved here: the proxy is asked for it
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", f"https://{host}")
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    result = cli("--retries", "0", "doctor", "-o", "json")
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["proxy"] == {
        "check": "proxy",
        "status": "ok",
        "detail": f"{proxy} (environment)",
        "fix": "",
    }
    assert (
        steps["dns"]["status"] == "ok"
        and steps["dns"]["detail"] == f"skipped: the proxy resolves {host}"
    )
    assert steps["tcp"]["detail"].startswith(f"proxy 127.0.0.1:{proxy.rsplit(':', 1)[1]} in ")
    assert steps["credentials"]["status"] == "fail" and result.code == 8
    # the doctor's own probe of the proxy says nothing; the client's CONNECT names the host
    assert [line.rsplit(" ", 1)[0] for line in asked if line] == [f"CONNECT {host}:443"]
