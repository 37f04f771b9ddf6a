"""Config discovery, profiles, precedence, validation messages and secret sources."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backupshare.config import Flags
from backupshare.config_file import parse_yaml, validate_file
from backupshare.errors import ConfigError
from backupshare.resolution import load_settings

from .helpers import OWN, P1

GOOD = f"""
default_profile: prod
profiles:
  prod:
    cloud: otc
    region: eu-de
    project_id: {OWN}
    auth:
      method: token
      token: file-token
    timeout: 12
    retries: 1
    output: json
  local:
    endpoint: http://127.0.0.1:8776
    project_id: {P1}
    auth: {{method: token, token_env: LOCAL_TOKEN}}
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def config_file(isolated: Path) -> Path:
    return write(isolated / ".config" / "backupshare" / "config.yaml", GOOD)


def load(env: dict[str, str] | None = None, **flags: object) -> object:
    merged = {**os.environ, **(env or {})}
    return load_settings(Flags(**flags), merged)  # type: ignore[arg-type]


def test_default_location_default_profile_and_derived_endpoint(config_file: Path) -> None:
    s = load_settings(Flags())
    assert s.profile == "prod" and s.config_path == config_file
    assert s.endpoint == "https://vbs.eu-de.otc.t-systems.com"
    assert s.timeout == 12 and s.retries == 1 and s.output == "json"
    assert s.auth.method == "token" and s.auth.token is not None
    assert s.auth.token.reveal() == "file-token"
    assert s.sources["endpoint"] == "derived from cloud and region"
    assert s.sources["timeout"] == f"file {config_file}:11"


def test_huaweicloud_endpoints_are_derived(isolated: Path) -> None:
    path = write(
        isolated / "c.yaml",
        f"""profiles:
  default:
    cloud: huaweicloud
    region: ap-southeast-1
    project_id: {OWN}
    auth: {{method: password, username: u, domain: d, password: p}}
""",
    )
    s = load_settings(Flags(config=str(path)))
    assert s.endpoint == "https://vbs.ap-southeast-1.myhuaweicloud.com"
    assert s.auth.iam_endpoint == "https://iam.ap-southeast-1.myhuaweicloud.com"


def test_precedence_flag_over_env_over_file_over_default(config_file: Path) -> None:
    env = {"BACKUPSHARE_ENDPOINT": "https://env.example.com", "BACKUPSHARE_OUTPUT": "yaml"}
    s = load_settings(Flags(), {**os.environ, **env})
    assert s.endpoint == "https://env.example.com" and s.output == "yaml"
    assert s.sources["endpoint"] == "env BACKUPSHARE_ENDPOINT"
    s = load_settings(
        Flags(endpoint="https://flag.example.com", output="csv"), {**os.environ, **env}
    )
    assert s.endpoint == "https://flag.example.com" and s.output == "csv"
    assert s.sources["output"] == "flag --output"
    s = load_settings(Flags(profile="local"), {**os.environ, "LOCAL_TOKEN": "x"})
    assert s.retries == 3 and s.sources["retries"] == "default"
    assert s.timeout == 30.0


def test_profile_selection_order(config_file: Path) -> None:
    env = {**os.environ, "LOCAL_TOKEN": "x", "BACKUPSHARE_PROFILE": "local"}
    assert load_settings(Flags(), env).profile == "local"
    assert load_settings(Flags(profile="prod"), env).profile == "prod"


def test_unknown_profile_names_the_known_ones(config_file: Path) -> None:
    with pytest.raises(ConfigError, match="profile 'nope' not found") as caught:
        load_settings(Flags(profile="nope"))
    assert caught.value.hint == "known profiles: local, prod"
    assert caught.value.exit_code == 3


def test_config_env_var_and_explicit_missing_file(isolated: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Flags(), {**os.environ, "BACKUPSHARE_CONFIG": str(isolated / "none.yaml")})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Flags(config=str(isolated / "none.yaml")))


@pytest.mark.parametrize(
    ("env", "method"),
    [
        ({"BACKUPSHARE_TOKEN": "t"}, "token"),
        ({"BACKUPSHARE_ACCESS_KEY": "a", "BACKUPSHARE_SECRET_KEY": "s"}, "aksk"),
        ({"HUAWEICLOUD_SDK_AK": "a", "HUAWEICLOUD_SDK_SK": "s"}, "aksk"),
        ({"BACKUPSHARE_USERNAME": "u", "BACKUPSHARE_PASSWORD": "p", "BACKUPSHARE_DOMAIN": "d",
          "BACKUPSHARE_IAM_ENDPOINT": "https://iam.example.com/v3"}, "password"),
    ],
)  # fmt: skip
def test_environment_only_credentials_need_no_file(env: dict[str, str], method: str) -> None:
    base = {"BACKUPSHARE_ENDPOINT": "https://vbs.example.com", "BACKUPSHARE_PROJECT_ID": OWN}
    s = load_settings(Flags(), {**os.environ, **base, **env})
    assert s.config_path is None and s.auth.method == method
    if method == "password":
        assert s.auth.iam_endpoint == "https://iam.example.com"  # a trailing /v3 is tolerated


def test_sdk_fallbacks_for_project_and_region() -> None:
    env = {
        **os.environ,
        "HUAWEICLOUD_SDK_PROJECT_ID": OWN.upper(),
        "HUAWEICLOUD_SDK_REGION": "eu-nl",
        "BACKUPSHARE_TOKEN": "t",
        "BACKUPSHARE_ENDPOINT": "https://vbs.eu-nl.otc.t-systems.com",
    }
    s = load_settings(Flags(), env)
    assert s.project_id == OWN and s.region == "eu-nl"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "has no endpoint"),
        ({"BACKUPSHARE_ENDPOINT": "https://x.example.com"}, "has no project_id"),
        ({"BACKUPSHARE_ENDPOINT": "https://x.example.com", "BACKUPSHARE_PROJECT_ID": "xyz"},
         "'xyz' (env BACKUPSHARE_PROJECT_ID) is not 32 hex"),
        ({"BACKUPSHARE_ENDPOINT": "https://x.example.com", "BACKUPSHARE_PROJECT_ID": OWN},
         "has no credentials"),
        ({"BACKUPSHARE_ENDPOINT": "http://vbs.example.com", "BACKUPSHARE_PROJECT_ID": OWN,
          "BACKUPSHARE_TOKEN": "t"}, "plain http is allowed only for loopback"),
        ({"BACKUPSHARE_ENDPOINT": "ftp://x", "BACKUPSHARE_PROJECT_ID": OWN,
          "BACKUPSHARE_TOKEN": "t"}, "is not an http(s) URL"),
        ({"BACKUPSHARE_ENDPOINT": "https://x.example.com", "BACKUPSHARE_PROJECT_ID": OWN,
          "BACKUPSHARE_TOKEN": "t", "BACKUPSHARE_OUTPUT": "xml"}, "output format 'xml'"),
        ({"BACKUPSHARE_ENDPOINT": "https://x:99999", "BACKUPSHARE_PROJECT_ID": OWN,
          "BACKUPSHARE_TOKEN": "t"}, "invalid port"),
        ({"BACKUPSHARE_ENDPOINT": "https://x.example.com", "BACKUPSHARE_PROJECT_ID": OWN,
          "BACKUPSHARE_USERNAME": "u", "BACKUPSHARE_PASSWORD": "p"}, "needs 'domain'"),
    ],
)  # fmt: skip
def test_environment_problems_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(Flags(), {**os.environ, **env})
    assert message in caught.value.message


def test_loopback_hosts_may_use_http() -> None:
    for url in ("http://127.0.0.1:8776", "http://localhost:1", "http://[::1]:8776"):
        env = {**os.environ, "BACKUPSHARE_ENDPOINT": url, "BACKUPSHARE_PROJECT_ID": OWN,
               "BACKUPSHARE_TOKEN": "t"}  # fmt: skip
        assert load_settings(Flags(), env).endpoint == url


BAD_FILES = [
    ("profiles: [1, 2]", "'profiles' must be a mapping"),
    ("- a\n- b", "the top level must be a mapping"),
    ("colour: blue", "unknown top-level key 'colour' (line 1)"),
    ("profiles:\n  p:\n    region: 5", "profile 'p': key 'region' (line 3): must be a string"),
    ("profiles:\n  p:\n    timeout: fast", "key 'timeout' (line 3): must be a number"),
    ("profiles:\n  p:\n    timeout: -1", "must be more than 0 and at most 3600 seconds"),
    ("profiles:\n  p:\n    retries: 1.5", "key 'retries' (line 3): must be an integer"),
    ("profiles:\n  p:\n    retries: true", "must be an integer"),
    ("profiles:\n  p:\n    cloud: aws", "key 'cloud' (line 3): must be one of otc, huaweicloud"),
    ("profiles:\n  p:\n    project_id: abc", "'abc' is not a project id"),
    ("profiles:\n  p:\n    endpoint: http://vbs.example.com", "plain http is allowed only"),
    ("profiles:\n  p:\n    output: xml", "key 'output' (line 3): must be one of"),
    ("profiles:\n  p:\n    regoin: eu-de", "key 'regoin' (line 3): unknown key"),
    ("profiles:\n  p:\n    auth: token", "key 'auth' (line 3): must be a mapping"),
    ("profiles:\n  p:\n    auth:\n      method: basic", "key 'auth.method' (line 4): must be one"),
    ("profiles:\n  p:\n    auth:\n      tokn: x", "key 'auth.tokn' (line 4): unknown key"),
    (
        "profiles:\n  p:\n    auth:\n      token: 5",
        "key 'auth.token' (line 4): must be a non-empty",
    ),
    ("profiles:\n  p:\n    auth:\n      token: x\n      token_env: Y", "give only one of token"),
    ("profiles:\n  p: 3", "profile 'p' must be a mapping"),
    ("profiles:\n  p:", "profile 'p' is empty"),
    ("default_profile: 3\nprofiles: {}", "'default_profile' must be a string"),
    ("default_profile: x\nprofiles: {p: {region: r}}", "default_profile 'x' is not among"),
    ("profiles:\n  p: {region: a}\n  p: {region: b}", "line 3: duplicate key 'p'"),
    ("profiles:\n  p:\n    region: [unclosed", "YAML syntax error at line 3"),
    ("profiles: {p: {region: a}", "YAML syntax error"),
    ("\tprofiles: {}", "YAML syntax error at line 1"),
    ("profiles:\n  1: {region: a}", "keys must be strings"),
    ("profiles: !!python/object:os.system {}", "YAML"),
    ("a: &x [*x]", "recursive"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_files_name_file_profile_key_and_line(isolated: Path, text: str, message: str) -> None:
    path = write(isolated / "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(Flags(config=str(path)), {**os.environ, "BACKUPSHARE_TOKEN": "t"})
    assert message in caught.value.message
    assert str(path) in caught.value.message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02", "not a text file"),
        (b"\xff\xfe\xfa", r"not a text file \(invalid UTF-8\)"),
        (b"x: " + b"a" * (1024 * 1024 + 10), "file is too large"),
    ],
)
def test_binary_and_huge_files(isolated: Path, content: bytes, message: str) -> None:
    path = isolated / "c.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(Flags(config=str(path)))


def test_directory_and_unreadable_files(isolated: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(Flags(config=str(isolated)))
    if os.geteuid() != 0:  # root reads everything
        path = write(isolated / "c.yaml", GOOD, mode=0o000)
        with pytest.raises(ConfigError, match="is not readable"):
            load_settings(Flags(config=str(path)))


def test_empty_file_is_an_empty_config(isolated: Path) -> None:
    path = write(isolated / "c.yaml", "")
    with pytest.raises(ConfigError, match="has no endpoint"):
        load_settings(Flags(config=str(path)))


def test_validate_lists_every_problem(isolated: Path) -> None:
    path = write(isolated / "c.yaml", "colour: x\nprofiles:\n  p:\n    regoin: a\n    retries: x")
    problems = validate_file(parse_yaml(path.read_text(), path), path)
    assert len(problems) == 3


# -- secret sources ------------------------------------------------------------------------------
def profile_with(isolated: Path, auth: str, mode: int = 0o600) -> Path:
    return write(
        isolated / "s.yaml",
        f"profiles:\n  default:\n    endpoint: https://vbs.example.com\n"
        f"    project_id: {OWN}\n    auth: {auth}\n",
        mode,
    )


def test_secret_from_env_reference(isolated: Path) -> None:
    path = profile_with(isolated, "{method: token, token_env: MY_TOKEN}")
    s = load_settings(Flags(config=str(path)), {**os.environ, "MY_TOKEN": "from-env"})
    assert s.auth.token is not None and s.auth.token.reveal() == "from-env"
    assert s.sources["token"] == "env MY_TOKEN (via token_env)"
    with pytest.raises(ConfigError, match="environment variable MY_TOKEN is not set"):
        load_settings(Flags(config=str(path)))


def test_secret_from_command(isolated: Path) -> None:
    script = isolated / "secret.py"
    script.write_text('print("from-command")')
    command = f"{sys.executable} {script}"
    path = profile_with(
        isolated, f"{{method: aksk, access_key: AK, secret_key_command: {command}}}"
    )
    s = load_settings(Flags(config=str(path)))
    assert s.auth.secret_key is not None and s.auth.secret_key.reveal() == "from-command"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("{python} -c 'import sys; print(\"leaked-secret\"); sys.exit(3)'",
         "the command failed with exit code 3"),
        ("/no/such/binary", "command not found: /no/such/binary"),
        ("{python} -c 'pass'", "the command printed nothing"),
        ("'unclosed", "cannot parse the command"),
    ],
)  # fmt: skip
def test_secret_command_failures_do_not_show_output(
    isolated: Path, command: str, message: str
) -> None:
    command = command.format(python=sys.executable).replace('"', '\\"')
    path = profile_with(isolated, f'{{method: token, token_command: "{command}"}}')
    with pytest.raises(ConfigError) as caught:
        load_settings(Flags(config=str(path)))
    assert message in caught.value.message
    assert "leaked-secret" not in caught.value.message + str(caught.value.hint)
    assert "key 'auth.token_command'" in caught.value.message


def test_secret_command_timeout(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backupshare.resolution.SECRET_COMMAND_TIMEOUT", 0.2)
    path = profile_with(
        isolated,
        f'{{method: token, token_command: "{sys.executable} -c \\"import time; time.sleep(5)\\""}}',
    )
    with pytest.raises(ConfigError, match="did not finish"):
        load_settings(Flags(config=str(path)))


def test_env_secret_overrides_the_file(isolated: Path) -> None:
    path = profile_with(isolated, "{method: token, token: file-value}")
    s = load_settings(Flags(config=str(path)), {**os.environ, "BACKUPSHARE_TOKEN": "env-value"})
    assert s.auth.token is not None and s.auth.token.reveal() == "env-value"


def test_world_readable_secret_warns(isolated: Path) -> None:
    path = profile_with(isolated, "{method: token, token: inline}", mode=0o644)
    [warning] = load_settings(Flags(config=str(path))).warnings
    assert "readable by others (mode 644)" in warning and f"chmod 600 {path}" in warning
    path.chmod(0o600)
    assert load_settings(Flags(config=str(path))).warnings == ()
    env_only = profile_with(isolated, "{method: token, token_env: T}", mode=0o644)
    assert load_settings(Flags(config=str(env_only)), {**os.environ, "T": "x"}).warnings == ()


def test_a_secret_in_another_profile_still_warns(isolated: Path) -> None:
    path = write(
        isolated / "two.yaml",
        f"profiles:\n  safe:\n    endpoint: https://a.example.com\n    project_id: {OWN}\n"
        "    auth: {method: token, token_env: T}\n"
        "  leaky:\n    auth: {method: token, token: inline-secret}\n",
        0o640,
    )
    settings_ = load_settings(Flags(config=str(path), profile="safe"), {**os.environ, "T": "x"})
    assert len(settings_.warnings) == 1 and "mode 640" in settings_.warnings[0]


# -- fuzzing ---------------------------------------------------------------------------------------
yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=10)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["profiles", "default_profile", "auth", "method", "token",
                                         "endpoint", "project_id", "timeout", "region", "cloud",
                                         "p", "x"]), children, max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(document=yaml_values)
def test_fuzzed_structures_only_ever_raise_config_errors(isolated: Path, document: object) -> None:
    import json

    path = isolated / "fuzz.yaml"
    path.write_text(json.dumps(document))  # JSON is YAML
    with contextlib.suppress(ConfigError):
        load_settings(Flags(config=str(path)), {"HOME": str(isolated)})


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=80))
def test_fuzzed_text_only_ever_raises_config_errors(isolated: Path, text: str) -> None:
    path = isolated / "fuzz.yaml"
    path.write_text(text, errors="surrogateescape")
    with contextlib.suppress(ConfigError):
        load_settings(Flags(config=str(path)), {"HOME": str(isolated)})


@pytest.mark.parametrize(
    ("flag", "env", "data", "expected"),
    [
        ("cli", {"BACKUPSHARE_PROFILE": "env"}, {"default_profile": "file"}, ("cli", True)),
        (None, {"BACKUPSHARE_PROFILE": "env"}, {"default_profile": "file"}, ("env", True)),
        (None, {}, {"default_profile": "file"}, ("file", True)),
        (None, {"BACKUPSHARE_PROFILE": ""}, {}, ("default", False)),
    ],
)
def test_one_rule_names_the_profile(
    flag: str | None, env: dict[str, str], data: dict[str, str], expected: tuple[str, bool]
) -> None:
    from backupshare.config import profile_name

    assert profile_name(flag, env, data) == expected


def test_config_init_without_profile_writes_the_profile_a_run_uses(
    cli: Any, isolated: Path
) -> None:
    # config init and every other command agree on which profile is meant: the file's
    # default_profile, not a `default` no command would read
    path = isolated / ".config" / "backupshare" / "config.yaml"
    flags = ("--endpoint", "http://127.0.0.1:1", "--project-id", P1, "--auth-method", "token")
    assert cli("config", "init", *flags, "--secret-env", "T", "-p", "prod").code == 0
    again = cli("config", "init", *flags, "--secret-env", "T2", "--force")
    assert again.code == 0 and "wrote profile 'prod'" in again.err
    assert list(yaml.safe_load(path.read_text())["profiles"]) == ["prod"]
