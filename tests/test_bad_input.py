"""The bad-input catalogue: every kind of bad input a user or a server can hand us gets one clear
line and its documented exit code — never a traceback — and nothing is sent when the input is bad."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backupshare.emulator import RunningEmulator
from backupshare.errors import BackupshareError
from backupshare.models import Share
from backupshare.service import count_in
from backupshare.vbs import shares_from_body

from .helpers import BACKUP, OWN, P1, fault

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@dataclass
class Case:
    argv: list[str]
    code: int
    message: str
    env: dict[str, str] = field(default_factory=dict)
    config: str | bytes | None = None  # written to a file passed with --config
    stdin: str | None = None
    faults: list[dict[str, Any]] = field(default_factory=list)
    sends: bool = False  # whether anything may reach the service

    def __str__(self) -> str:
        return " ".join(self.argv)[:60]


def usage(*argv: str, message: str, **kw: Any) -> Case:
    return Case(list(argv), 2, message, **kw)


def conf(text: str | bytes, message: str, *argv: str) -> Case:
    return Case(["list-shares", *argv], 3, message, config=text)


def served(answer: dict[str, Any], code: int, message: str, *argv: str) -> Case:
    return Case(list(argv) or ["list-shares"], code, message, faults=[answer], sends=True)


CLI_ARGS = [
    usage("share", message="no backup to share: give its id or name"),
    usage("share", BACKUP, message="no target projects"),
    usage("share", "x\x01", P1, message="invalid backup name 'x\\x01'"),
    usage("share", "", P1, message="an empty backup name"),
    usage("share", BACKUP[:-1], P1, message="invalid backup id"),
    usage("share", BACKUP + "0", P1, message="invalid backup id"),
    usage("share", BACKUP.replace("-", ""), P1, message="invalid backup id"),
    usage("share", "{" + BACKUP + "}", P1, message="invalid backup id"),
    usage("share", BACKUP, "x", message="invalid project id 'x'"),
    usage("share", BACKUP, P1[:-1], message="invalid project id"),
    usage("share", BACKUP, P1 + "a", message="invalid project id"),
    usage("share", BACKUP, "g" * 32, message="invalid project id"),
    usage("share", BACKUP, BACKUP, message="invalid project id"),
    usage("share", BACKUP, P1, "zz", message="invalid project id 'zz'"),
    usage("share", BACKUP, OWN, message="is the profile's own project"),
    usage("share", BACKUP, P1, OWN.upper(), message="is the profile's own project"),
    usage("share", BACKUP, "--projects-file", "/nonexistent", message="no such file"),
    usage("share", BACKUP, "--projects-file", "/", message="is a directory"),
    usage("share", BACKUP, "--projects-file", "-", stdin="", message="no target projects"),
    usage(
        "share",
        BACKUP,
        "--projects-file",
        "-",
        stdin="# only comments\n\n",
        message="no target projects",
    ),
    usage(
        "share",
        BACKUP,
        "--projects-file",
        "-",
        stdin=f"{P1}\nnope\n",
        message="'nope' (line 2 of standard input)",
    ),
    usage("share", BACKUP, "--projects-file", "-", stdin=f"{OWN}\n", message="own project"),
    usage(
        "share", BACKUP, "--projects-file", message="option '--projects-file' requires an argument"
    ),
    usage("share", BACKUP, P1, "--dry-run=yes", message="option '--dry-run' does not take a value"),
    usage("share", BACKUP, P1, "-x", message="no such option: -x"),
    usage("list-shares", "--limit", "0", message="invalid --limit 0"),
    usage("list-shares", "--limit", "-3", message="invalid --limit -3"),
    usage("list-shares", "--limit", "ten", message="'ten' is not a valid integer"),
    usage("list-shares", "--limit", "1.5", message="'1.5' is not a valid integer"),
    usage("list-shares", "--page-size", "0", message="invalid --page-size 0"),
    usage("list-shares", "--page-size", "1001", message="invalid --page-size 1001"),
    usage("list-shares", "--sort-key", "colour", message="invalid --sort-key 'colour'"),
    usage("list-shares", "--sort-dir", "sideways", message="invalid --sort-dir 'sideways'"),
    usage("list-shares", "--status", "broken", message="invalid --status 'broken'"),
    usage("list-shares", "--backup-id", "nope", message="invalid backup id 'nope'"),
    usage("list-shares", "--to-project", "nope", message="invalid project id 'nope'"),
    usage("list-shares", "--from-project", "nope", message="invalid project id 'nope'"),
    usage("list-shares", "--volume-id", "nope", message="invalid volume id 'nope'"),
    usage("list-shares", "--timeout", "soon", message="'soon' is not a valid number"),
    usage("list-shares", "--retries", "many", message="'many' is not a valid integer"),
    usage("list-shares", "-o", "xml", message="invalid --output 'xml'"),
    usage("-o", "table ", "list-shares", message="invalid --output 'table '"),
    usage("show", message="missing argument 'SHARE_ID'"),
    usage("show", "nope", message="invalid sharing id 'nope'"),
    usage("show", BACKUP, BACKUP, message="got unexpected extra argument"),
    usage("cancel", message="nothing to cancel"),
    usage("cancel", "nope", message="invalid sharing id 'nope'"),
    usage("cancel", BACKUP, "nope", message="invalid sharing id 'nope'"),
    usage("cancel", "--backup-id", "nope", message="invalid backup id 'nope'"),
    usage("cancel", "--backup-id", BACKUP, "--to-project", "x", message="invalid project id 'x'"),
    usage(
        "cancel",
        "--to-project",
        P1,
        message="refusing to end sharings across the project without --yes",
    ),
    usage("cancel", BACKUP, "--backup-id", BACKUP, message="not both"),
    usage("cancel", "--backup-id", BACKUP, message="without --yes"),
    usage("cancel", BACKUP, "--concurrency", "0", message="invalid --concurrency 0"),
    usage("cancel", BACKUP, "--concurrency", "65", message="invalid --concurrency 65"),
    usage("completion", message="missing argument 'SHELL'"),
    usage("completion", "cmd", message="invalid shell 'cmd'"),
    usage("config", "frob", message="no such command 'frob'"),
    usage("unknown-command", message="no such command 'unknown-command'"),
    usage("--profile", message="option '--profile' requires an argument"),
]

ENVIRONMENT = [
    Case(["list-shares"], 3, "has no credentials", env={"BACKUPSHARE_TOKEN": ""}),
    Case(["list-shares"], 3, "has no project_id", env={"BACKUPSHARE_PROJECT_ID": ""}),
    Case(["list-shares"], 3, "is not 32 hex", env={"BACKUPSHARE_PROJECT_ID": "xyz"}),
    Case(["list-shares"], 3, "has no endpoint", env={"BACKUPSHARE_ENDPOINT": ""}),
    Case(["list-shares"], 3, "is not an http(s) URL", env={"BACKUPSHARE_ENDPOINT": "vbs.example.com"}),
    Case(["list-shares"], 3, "plain http is allowed only for loopback", env={"BACKUPSHARE_ENDPOINT": "http://vbs.example.com"}),
    Case(["list-shares"], 3, "has an invalid port", env={"BACKUPSHARE_ENDPOINT": "http://127.0.0.1:0x"}),
    Case(["list-shares"], 3, "output format 'xml'", env={"BACKUPSHARE_OUTPUT": "xml"}),
    Case(["list-shares"], 3, "config file", env={"BACKUPSHARE_CONFIG": "/nonexistent/config.yaml"}),
    Case(["list-shares"], 3, "profile 'ghost' not found", env={"BACKUPSHARE_PROFILE": "ghost"}, config="profiles: {}\n"),
    Case(["list-shares"], 3, "needs 'domain'", env={"BACKUPSHARE_TOKEN": "", "BACKUPSHARE_USERNAME": "u", "BACKUPSHARE_PASSWORD": "p"}),
    Case(["list-shares"], 3, "needs an IAM endpoint", env={"BACKUPSHARE_TOKEN": "", "BACKUPSHARE_USERNAME": "u", "BACKUPSHARE_PASSWORD": "p", "BACKUPSHARE_DOMAIN": "d"}),
    Case(["list-shares"], 3, "iam_endpoint (env BACKUPSHARE_IAM_ENDPOINT)", env={"BACKUPSHARE_TOKEN": "", "BACKUPSHARE_USERNAME": "u", "BACKUPSHARE_PASSWORD": "p", "BACKUPSHARE_DOMAIN": "d", "BACKUPSHARE_IAM_ENDPOINT": "ftp://iam"}),
]  # fmt: skip

CONFIG_FILES = [
    conf("profiles: [", "YAML syntax error at line 1"),
    conf("profiles:\n  default:\n    region: [a\n", "(in what starts at line 3)"),
    conf("profiles:\n\t- x", "YAML syntax error"),
    conf("just text", "the top level must be a mapping"),
    conf("[1, 2]", "the top level must be a mapping"),
    conf("profiles: 7", "'profiles' must be a mapping"),
    conf("extra: 1\nprofiles: {}", "unknown top-level key 'extra' (line 1)"),
    conf("profiles:\n  default:\n    colour: red", "profile 'default': key 'colour' (line 3): unknown key"),
    conf("profiles:\n  default:\n    timeout: '30'", "key 'timeout' (line 3): must be a number"),
    conf("profiles:\n  default:\n    timeout: 0", "must be more than 0 and at most 3600 seconds"),
    conf("profiles:\n  default:\n    retries: -1", "must be between 0 and 20"),
    conf("profiles:\n  default:\n    retries: 99", "must be between 0 and 20"),
    conf("profiles:\n  default:\n    cloud: azure", "key 'cloud' (line 3): must be one of otc, huaweicloud"),
    conf("profiles:\n  default:\n    project_id: 123", "key 'project_id' (line 3): must be a string"),
    conf("profiles:\n  default:\n    project_id: nothex", "'nothex' is not a project id"),
    conf("profiles:\n  default:\n    endpoint: http://10.0.0.1", "plain http is allowed only for loopback"),
    conf("profiles:\n  default:\n    proxy: socks", "'socks' is not an http(s) URL"),
    conf("profiles:\n  default:\n    output: html", "key 'output' (line 3): must be one of"),
    conf("profiles:\n  default:\n    auth: [token]", "key 'auth' (line 3): must be a mapping"),
    conf("profiles:\n  default:\n    auth: {method: kerberos}", "key 'auth.method' (line 3): must be one of"),
    conf("profiles:\n  default:\n    auth: {method: token, tokem: x}", "key 'auth.tokem' (line 3): unknown key"),
    conf("profiles:\n  default:\n    auth: {method: token, token: ''}", "key 'auth.token' (line 3): must be a non-empty string"),
    conf("profiles:\n  default:\n    auth: {method: token, token: x, token_env: Y}", "give only one of token, token_env"),
    conf("profiles:\n  default:\n    auth: {method: aksk, access_key: A}", "auth method 'aksk' needs 'secret_key'"),
    conf("profiles:\n  default:\n    auth: {method: token, token_env: UNSET_VARIABLE_X}", "environment variable UNSET_VARIABLE_X is not set"),
    conf("profiles:\n  default:\n    auth: {method: token, token_command: /no/such/cmd}", "command not found: /no/such/cmd"),
    conf("profiles:\n  default:\n    auth: {method: token, token_command: 'false'}", "the command failed with exit code 1"),
    conf("profiles:\n  default:\n    ca_bundle: /no/such.pem\n    auth: {method: token, token: t}", "ca_bundle /no/such.pem (file "),
    conf("profiles:\n  default: 5", "profile 'default' must be a mapping"),
    conf("profiles:\n  a: {}\n  a: {}", "duplicate key 'a'"),
    conf("default_profile: [x]\nprofiles: {}", "'default_profile' must be a string"),
    conf("default_profile: nope\nprofiles: {a: {region: r}}", "default_profile 'nope' is not among the profiles"),
    conf(b"\x00\x00\x00", "not a text file"),
    conf(b"\xc3\x28", "invalid UTF-8"),
    conf(b"profiles: {}\n# " + b"x" * (1024 * 1024), "file is too large"),
    conf("a: &a [*a]", "recursive"),
    conf("profiles: !!binary aGVsbG8=", "'profiles' must be a mapping"),
    conf("profiles: !!python/name:os.system", "YAML syntax error"),
]  # fmt: skip

SERVER_ANSWERS = [
    served({"kind": "raw", "status": 200, "body": "<html><title>Login</title></html>", "content_type": "text/html"}, 8, "is not JSON (text/html): Login"),
    served({"kind": "html"}, 8, "unexpected response: HTTP 200 is not JSON"),
    served({"kind": "truncated"}, 8, "is not JSON"),
    served({"kind": "raw", "status": 200, "body": ""}, 8, "with an empty body"),
    served({"kind": "raw", "status": 200, "body": "null"}, 8, "no 'shared' in the body"),
    served({"kind": "raw", "status": 200, "body": "[]"}, 8, "no 'shared' in the body"),
    served({"kind": "raw", "status": 200, "body": '{"shared": {}}'}, 8, "'shared' is not a list"),
    served({"kind": "raw", "status": 200, "body": '{"shared": "x"}'}, 8, "'shared' is not a list"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [null]}'}, 8, "a sharing is not an object"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"id": 5, "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9"}]}'}, 8, "without a valid 'id'"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9"}]}'}, 8, "without a valid 'id'"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9"}]}'}, 8, "without a valid 'backup_id'"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": null}]}'}, 8, "without a valid 'to_project_id'"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9", "backup": []}]}'}, 8, "'backup' is not an object"),
    served({"kind": "raw", "status": 200, "body": '{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9", "created_at": [1]}]}'}, 8, "not a scalar"),
    served({"kind": "raw", "status": 200, "body": '{"count": "3"}'}, 8, "no valid 'count'", "list-shares", "--count"),
    served({"kind": "raw", "status": 200, "body": '{"count": -1}'}, 8, "no valid 'count'", "list-shares", "--count"),
    served({"kind": "raw", "status": 200, "body": '{"count": true}'}, 8, "no valid 'count'", "list-shares", "--count"),
    served({"kind": "raw", "status": 200, "body": '{"shared": null}'}, 8, "no 'shared'" if False else "unexpected response", "show", UNKNOWN),
    served({"kind": "raw", "status": 200, "body": "\udcff\udcfe"}, 8, "is not JSON"),
    served({"kind": "raw", "status": 200, "body": '{"shared": []}', "content_type": "text/plain"}, 0, ""),
    served({"kind": "raw", "status": 400, "body": "<html><body><h1>Bad</h1></body></html>", "content_type": "text/html"}, 6, "error: Bad (HTTP 400"),
    served({"kind": "raw", "status": 400, "body": '{"error": {"code": "VolumeBackup.0001", "message": "no"}}'}, 6, "error: no (HTTP 400, VolumeBackup.0001"),
    served({"kind": "raw", "status": 404, "body": '{"itemNotFound": {"code": 404, "message": "gone"}}'}, 5, "error: gone (HTTP 404, 404"),
    served({"kind": "raw", "status": 403, "body": '{"error_code": "APIG.0302", "error_msg": "denied", "request_id": "r-1"}'}, 4, "error: denied (HTTP 403, APIG.0302"),
    served({"kind": "raw", "status": 401, "body": ""}, 4, "error: HTTP 401 Unauthorized (HTTP 401"),
    served({"kind": "raw", "status": 409, "body": "{not json"}, 6, "error: {not json (HTTP 409"),
    served({"kind": "raw", "status": 418, "body": '{"error": "teapot"}'}, 6, "error: HTTP 418 I'm a Teapot (HTTP 418"),
    served({"kind": "raw", "status": 400, "body": '{"error": {"message": 12}}'}, 6, "error: 12 (HTTP 400"),
    served({"kind": "raw", "status": 400, "body": '{"badRequest": {"message": "x" }}', "content_type": "application/xml"}, 6, "error: x (HTTP 400"),
]  # fmt: skip

CATALOGUE = CLI_ARGS + ENVIRONMENT + CONFIG_FILES + SERVER_ANSWERS


def test_the_catalogue_is_large() -> None:
    assert len(CATALOGUE) >= 100


@pytest.mark.parametrize("case", CATALOGUE, ids=str)
def test_bad_input(
    case: Case, cli: Any, emulator: RunningEmulator, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    argv = list(case.argv)
    if case.config is not None:
        path = isolated / "config.yaml"
        path.write_bytes(case.config.encode() if isinstance(case.config, str) else case.config)
        path.chmod(0o600)
        argv = ["--config", str(path), *argv]
        monkeypatch.delenv("BACKUPSHARE_TOKEN", raising=False)
    for spec in case.faults:
        fault(emulator, **{"method": "GET", "count": 10, **spec})
    result = cli("--retries", "0", *argv, stdin=case.stdin)
    assert result.code == case.code, result.err
    assert "Traceback" not in result.err
    if case.code == 0:
        return
    lines = result.err.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.err
    assert case.message in errors[0], result.err
    assert all(line.startswith(("error: ", "hint: ", "warning: ")) for line in lines), result.err
    assert result.out == ""
    if not case.sends:
        assert emulator.logged() == []


def test_huge_answers_are_bounded(
    cli: Any, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backupshare.client.MAX_BODY_BYTES", 4096)
    fault(
        emulator, "raw", method="GET", status=200, body='{"shared": [], "x": "' + "y" * 10000 + '"}'
    )
    result = cli("list-shares")
    assert result.code == 8 and "the body exceeds" in result.err


# -- fuzzing the response parsers ----------------------------------------------------------------
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "backup_id", "to_project_id", "from_project_id", "backup",
                             "shared", "count", "name", "size", "created_at", "x"]),
            children,
            max_size=6,
        ),
    ),
    max_leaves=20,
)  # fmt: skip


@given(body=json_values)
def test_fuzzed_bodies_never_escape_as_anything_but_our_errors(body: Any) -> None:
    for parse in (
        lambda b: shares_from_body(b),
        lambda b: shares_from_body(b, single=True),
        count_in,
        Share.from_api,
    ):
        with contextlib.suppress(BackupshareError):
            parse(body)


@given(
    raw=st.binary(max_size=200), status=st.sampled_from([400, 401, 403, 404, 409, 429, 500, 503])
)
def test_fuzzed_error_bodies_always_make_an_error(raw: bytes, status: int) -> None:
    from backupshare.responses import error_from_response

    error = error_from_response(status, {"X-Request-Id": "r"}, raw)
    assert isinstance(error, BackupshareError) and error.status == status
    assert error.message and "\n" not in error.headline()
    json.dumps(error.to_dict())
