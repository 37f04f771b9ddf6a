"""The config commands and completion scripts: show, init (asks again after a bad answer, refuses
secrets without a terminal, writes the service), validate (lists problems, states ranges)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pexpect
import pytest
import yaml

from backupshare.emulator import RunningEmulator

from .helpers import P1


# -- config and completion -------------------------------------------------------------------------
def test_config_commands(cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = isolated / ".config" / "backupshare" / "config.yaml"
    assert cli("config", "path").out == f"{path}\n"
    result = cli("config", "init", "--cloud", "otc", "--region", "eu-de", "--project-id", P1,
                 "--auth-method", "aksk", "--access-key", "AK1", "--secret-env", "PROD_SK", "-p", "prod")  # fmt: skip
    assert result.code == 0, result.err
    assert (path.stat().st_mode & 0o777) == 0o600
    written = yaml.safe_load(path.read_text())
    assert written["profiles"]["prod"]["auth"] == {
        "method": "aksk", "access_key": "AK1", "secret_key_env": "PROD_SK"
    }  # fmt: skip
    again = cli("config", "init", "--cloud", "otc", "--project-id", P1, "--auth-method", "token",
                "--secret-env", "T", "-p", "prod")  # fmt: skip
    assert again.code == 3 and "profile 'prod' exists already" in again.err
    assert "hint: add --force" in again.err
    forced = cli("config", "init", "--endpoint", "http://127.0.0.1:1", "--project-id", P1,
                 "--auth-method", "token", "--secret-env", "T", "-p", "prod", "--force")  # fmt: skip
    assert forced.code == 0
    profiles = json.loads(cli("config", "profiles", "-o", "json", "--config", str(path)).out)
    assert profiles == [{"profile": "prod", "default": True}]
    assert cli("config", "validate").code == 0
    monkeypatch.setenv("T", "secret-token-value")
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    shown = cli("config", "show", "-p", "prod", "-o", "json")
    records = {r["key"]: r for r in json.loads(shown.out)}
    assert records["auth.token"]["value"] == "***"
    assert records["endpoint"]["source"].startswith(f"file {path}:")
    assert records["config_file"]["value"] == str(path)
    # -p names the profile: its project id, not the environment's (issue #24, AWS CLI rule)
    assert records["project_id"]["source"].startswith(f"file {path}:")
    assert "ignoring BACKUPSHARE_PROJECT_ID, BACKUPSHARE_TOKEN" in shown.err
    assert "secret-token-value" not in shown.out + shown.err


def test_config_init_refuses_secrets_without_a_terminal(cli: Any) -> None:
    result = cli("config", "init", "--endpoint", "http://127.0.0.1:1", "--project-id", P1,
                 "--auth-method", "token")  # fmt: skip
    assert result.code == 2
    assert "--secret-env VAR" in result.err and "never taken on the command line" in result.err


def test_config_validate_lists_problems(cli: Any, isolated: Path) -> None:
    bad = isolated / "bad.yaml"
    bad.write_text("profiles:\n  p:\n    regoin: x\n    retries: many\n")
    result = cli("config", "validate", "--config", str(bad))
    assert result.code == 3
    assert result.err.count("problem: ") == 2
    assert f"error: {bad}: 2 problems" in result.err


def test_completion_scripts(cli: Any) -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        result = cli("completion", shell)
        assert result.code == 0 and "_BACKUPSHARE_COMPLETE" in result.out


def test_config_validate_states_the_timeout_range_exactly(cli: Any, isolated: Any) -> None:
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    timeout: 0\n")
    config.chmod(0o600)
    result = cli("config", "validate", "--config", str(config))
    assert result.code == 3
    assert result.err.splitlines()[0].endswith(
        "key 'timeout' (line 3): must be more than 0 and at most 3600 seconds"
    )


# -- the docs are true: config init writes service, doctor on CBR asks CBR ------------------------------
def test_config_init_writes_the_service(cli: Any, isolated: Any) -> None:
    import yaml

    result = cli("config", "init", "--service", "cbr", "--cloud", "otc", "--region", "eu-de",
                 "--project-id", P1, "--auth-method", "token", "--secret-env", "T", "-p", "c")  # fmt: skip
    assert result.code == 0, result.err
    written = yaml.safe_load((isolated / ".config" / "backupshare" / "config.yaml").read_text())
    assert written["profiles"]["c"]["service"] == "cbr"
    plain = cli("config", "init", "--cloud", "otc", "--region", "eu-de", "--project-id", P1,
                "--auth-method", "token", "--secret-env", "T", "-p", "v")  # fmt: skip
    assert plain.code == 0, plain.err
    written = yaml.safe_load((isolated / ".config" / "backupshare" / "config.yaml").read_text())
    assert written["profiles"]["v"]["service"] == "vbs"


# -- config init asks again ----------------------------------------------------------------------
@pytest.mark.e2e
def test_config_init_asks_again_after_a_bad_answer(
    emulator: RunningEmulator, isolated: Path
) -> None:
    from .helpers import spawn

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
