"""The public library (docs/library.md): backupshare.Client against the emulator started by
backupshare.testing, its settings, its argument checks, its typed errors, its logging and its
cheap import."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import backupshare
from backupshare import (
    AlreadySharedError,
    BackupNotAvailableError,
    BackupNotFoundError,
    BackupshareError,
    Client,
    ConfigError,
    EncryptedBackupError,
    MemberNotFoundError,
    NotFoundError,
    PartialFailure,
    ProjectLimitError,
    RejectedError,
    UsageError,
    WaitTimeoutError,
)
from backupshare.errors import SERVICE_CODES
from backupshare.responses import error_from_response
from backupshare.testing import BACKUP_IDS, TestEmulator, emulator
from backupshare.verbs.wait import WaitTick

from .helpers import BACKUP, BACKUP2, CREATING, ENCRYPTED, OWN, P1, P2, P3, ROOT

MISSING = "066b1e37-9305-4057-97e5-2e99b21fc71e"
SECRET = "s3cr3t-value"


@pytest.fixture(params=["vbs", "cbr"])
def emu(request: pytest.FixtureRequest, isolated: Path) -> Iterator[TestEmulator]:
    with emulator(service=request.param) as running:
        yield running


@pytest.fixture
def vbs(isolated: Path) -> Iterator[TestEmulator]:
    with emulator() as running:
        yield running


@pytest.fixture
def cbr(isolated: Path) -> Iterator[TestEmulator]:
    with emulator(service="cbr") as running:
        yield running


# -- import cost and the public names -------------------------------------------------------------
def test_import_backupshare_loads_nothing_else() -> None:
    code = (
        "import sys, backupshare; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('backupshare', 'requests', 'rich', 'yaml', 'typer', 'urllib3', 'click')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "['backupshare']"


def test_the_pytest_plugin_costs_this_suite_nothing_until_its_fixture_is_used() -> None:
    # pytest loads it in every project where backupshare is installed, this one included
    code = (
        "import sys, backupshare.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('backupshare', 'requests', 'rich', 'yaml', 'typer')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "['backupshare', 'backupshare.pytest_plugin']"


def test_every_public_name_is_listed_and_loads_on_first_use() -> None:
    assert sorted(backupshare.__all__) == sorted(["__version__", *backupshare._PUBLIC])
    for name in backupshare.__all__:
        assert getattr(backupshare, name) is not None
    assert backupshare.ShareReport.__name__ == "ShareOutcome"
    assert dir(backupshare) == sorted(backupshare.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        backupshare.Nope  # noqa: B018


def test_the_package_ships_its_type_information() -> None:
    assert (ROOT / "backupshare" / "py.typed").is_file()
    package_data = (ROOT / "pyproject.toml").read_text().split("[tool.setuptools.package-data]")[1]
    assert '"py.typed"' in package_data.split("\n[", 1)[0]  # shipped in the wheel (PEP 561)


# -- settings: the CLI's table, precedence and checks -------------------------------------------
def test_keyword_settings_rank_above_the_environment(
    vbs: TestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", vbs.token)
    monkeypatch.setenv("BACKUPSHARE_TIMEOUT", "5")
    with Client(endpoint=vbs.url, timeout=7) as client:
        assert client.endpoint == vbs.url and client.project_id == OWN
        assert client._settings.timeout == 7.0  # the keyword, over the environment's 5
        assert client._settings.sources["timeout"] == "keyword timeout"
        assert {b.id for b in client.backups()} >= {BACKUP, BACKUP2}


def test_a_profile_of_the_config_file_is_chosen_as_the_cli_chooses(
    vbs: TestEmulator, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    profile = {
        "endpoint": vbs.url,
        "project_id": OWN,
        "auth": {"method": "token", "token": vbs.token},
    }
    config.write_text(json.dumps({"profiles": {"prod": profile}}))
    config.chmod(0o600)
    with Client("prod", config=config) as client:
        assert client.backup("db-nightly").id == BACKUP
    with pytest.raises(ConfigError, match="profile 'nope' not found"):
        Client("nope", config=config)


def test_from_env_reads_no_config_file_and_no_profile(
    vbs: TestEmulator, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = isolated / "broken.yaml"
    broken.write_text("profiles: [")
    env = {
        "BACKUPSHARE_CONFIG": str(broken),
        "BACKUPSHARE_PROFILE": "prod",
        "BACKUPSHARE_ENDPOINT": vbs.url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": vbs.token,
    }
    with Client.from_env(env) as client:
        assert client.most_recent("9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f").id == BACKUP
    monkeypatch.setenv("BACKUPSHARE_CONFIG", str(broken))
    with pytest.raises(ConfigError):  # Client() reads the file, as the CLI would
        Client(endpoint=vbs.url, project_id=OWN, token=vbs.token)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeuot": 3}, "unknown setting 'timeuot': the settings are cloud, region, service"),
        ({"output": "json"}, "unknown setting 'output'"),
        ({"endpoint": 5}, "invalid endpoint 5: expected a string"),
        ({"token": [SECRET]}, "invalid token (a list): expected a string"),
        ({"secret_key": SECRET.encode()}, "invalid secret_key (a bytes): expected a string"),
        (
            {"timeout": -1},
            "invalid timeout '-1' (keyword timeout): must be more than 0 and at most 3600",
        ),
        ({"retries": "many"}, "invalid retries 'many' (keyword retries): must be an integer"),
        ({"service": "s3"}, "service 's3' (keyword service) is not one of vbs, cbr"),
        ({"project_id": "nope"}, "project id 'nope' (keyword project_id) is not 32 hex"),
        ({"method": "magic"}, "auth method 'magic' is not one of token, password, aksk"),
    ],
)
def test_bad_settings_are_usage_errors_naming_the_setting(
    isolated: Path, settings: dict[str, Any], message: str
) -> None:
    given = {"endpoint": "http://127.0.0.1:9", "project_id": OWN, "token": "t", **settings}
    with pytest.raises(UsageError) as raised:
        Client(**given)
    assert message in str(raised.value)
    assert SECRET not in str(raised.value) + str(raised.value.hint)


def test_what_no_source_gives_is_the_clis_configuration_error(isolated: Path) -> None:
    with pytest.raises(ConfigError, match="has no endpoint"):
        Client(project_id=OWN, token="t")


# -- the verbs, on both services -----------------------------------------------------------------
def test_share_list_count_and_cancel(emu: TestEmulator) -> None:
    client = emu.client
    report = client.share("db-nightly", [P1, P2])
    assert report.changed and [r.result for r in report.results] == ["created", "created"]
    again = client.share(BACKUP, P1)  # one project: a string will do
    assert not again.changed and [r.result for r in again.results] == ["existing"]
    listed = list(client.shares(backup_id=BACKUP))
    assert sorted(s.to_project_id for s in listed) == [P1, P2]
    pages = list(client.shares(backup_id=BACKUP, page_size=1).pages())
    assert all(len(page) <= 1 for page in pages) and sum(map(len, pages)) == 2
    assert client.count_shares(backup_id=BACKUP) == 2
    ended = client.cancel(backup_id=BACKUP, to_projects=[P1, P3])
    assert sorted(r.result for r in ended.results) == ["absent", "canceled"]
    assert [s.to_project_id for s in client.shares(backup_id=BACKUP)] == [P2]


def test_cancel_to_projects_without_a_backup_ends_them_across_the_project(
    emu: TestEmulator,
) -> None:
    client = emu.client
    client.share(BACKUP, [P1, P2])
    planned = client.cancel(to_projects=[P1], dry_run=True)
    assert [r.result for r in planned.results] == ["canceled"]
    assert client.count_shares(backup_id=BACKUP) == 2
    ended = client.cancel(to_projects=[P1])
    assert [r.result for r in ended.results] == ["canceled"]
    assert [s.to_project_id for s in client.shares(backup_id=BACKUP)] == [P2]


def test_dry_runs_change_nothing(emu: TestEmulator) -> None:
    planned = emu.client.share(BACKUP, [P1], dry_run=True)
    assert [r.result for r in planned.results] == ["created"] and planned.request
    assert emu.client.count_shares(backup_id=BACKUP) == 0
    emu.client.share(BACKUP, [P1])
    plan = emu.client.cancel(backup_id=BACKUP, dry_run=True)
    assert [r.result for r in plan.results] == ["canceled"]
    assert emu.client.count_shares(backup_id=BACKUP) == 1


def test_backups_by_id_name_volume_and_status(emu: TestEmulator) -> None:
    client = emu.client
    assert client.backup(BACKUP).name == "db-nightly"
    assert client.backup("db-nightly").id == BACKUP
    making = "creating" if emu.service == "vbs" else "protecting"  # each service's word
    assert [b.id for b in client.backups(status=making)] == [CREATING]
    volume = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"
    assert {b.id for b in client.backups(volume_id=volume)} == {BACKUP, CREATING}
    assert client.most_recent(volume).id == BACKUP  # the newest *available* one
    assert len(list(client.backups(limit=1))) == 1
    with pytest.raises(BackupNotFoundError, match=f"backup {MISSING} not found"):
        client.backup(MISSING)
    with pytest.raises(NotFoundError, match="no backup named 'nope'"):
        client.backup("nope")


def test_show_a_vbs_sharing_and_its_typed_absence(vbs: TestEmulator) -> None:
    [made] = vbs.client.share(BACKUP, [P1]).results
    assert made.share_id is not None
    assert vbs.client.show(made.share_id).to_project_id == P1
    with pytest.raises(MemberNotFoundError) as raised:
        vbs.client.show(MISSING)
    assert raised.value.status == 404 and raised.value.service_code == "VolumeBackup.0205"
    assert raised.value.exit_code == 5


def test_cbr_offers_accept_and_reject(cbr: TestEmulator) -> None:
    cbr.client.share(BACKUP, [cbr.partner_project_id])
    cbr.client.share(BACKUP2, [cbr.partner_project_id])
    partner = cbr.partner
    assert {o.backup_id for o in partner.offers()} >= {BACKUP, BACKUP2}
    accepted = partner.accept(BACKUP)
    assert accepted.status == "accepted" and accepted.vault_id
    assert partner.accept(BACKUP).status == "accepted"  # twice is harmless
    [offer] = [o for o in partner.offers() if o.backup_id == BACKUP2]
    assert partner.reject(offer).status == "rejected"  # an offer itself names its backup
    assert [o.backup_id for o in partner.offers(status="accepted")] == [BACKUP]


def test_share_waits_for_the_answers_when_asked(cbr: TestEmulator, vbs: TestEmulator) -> None:
    report = cbr.client.share(BACKUP, [cbr.partner_project_id], wait_accepted=0.05)
    [result] = report.results
    assert result.status == "pending"
    error = report.error()
    assert error is not None and error.exit_code == 8 and report.answers is error
    with pytest.raises(UsageError, match="--wait-accepted"):
        vbs.client.share(BACKUP, [P1], wait_accepted=5)


def test_the_wait_ends_when_the_backup_is_available(cbr: TestEmulator) -> None:
    seen: list[WaitTick] = []
    backup = cbr.client.wait_available(BACKUP, 60, 0.01, progress=seen.append)
    assert backup.status == "available" and seen == []  # available at the first look: silent


# -- errors callers branch on --------------------------------------------------------------------
def test_a_wait_that_runs_out_carries_the_last_status(vbs: TestEmulator) -> None:
    seen: list[WaitTick] = []
    with pytest.raises(WaitTimeoutError) as raised:
        vbs.client.wait_available(CREATING, 0.05, 0.01, progress=seen.append)
    assert raised.value.last_status == "creating" and raised.value.exit_code == 8
    assert {tick.status for tick in seen} == {"creating"}
    assert seen[-1].ended and not any(tick.ended for tick in seen[:-1])
    assert seen[-1].subject == f"backup {CREATING}" and seen[-1].total == 0.05


def test_refusals_of_the_whole_request_are_raised_typed(emu: TestEmulator) -> None:
    # as the CLI does: a refusal of the request (not of one target) is no report but an error
    with pytest.raises(EncryptedBackupError) as encrypted:
        emu.client.share(ENCRYPTED, [P1])
    assert isinstance(encrypted.value, RejectedError) and encrypted.value.status == 400
    assert encrypted.value.exit_code == 6 and encrypted.value.service_code
    with pytest.raises(BackupNotAvailableError, match="only available backups can be shared"):
        emu.client.share(CREATING, [P1], dry_run=True)
    with pytest.raises(BackupNotAvailableError):
        emu.client.share(CREATING, [P1])


def test_already_shared_is_typed_when_the_list_does_not_settle_it(cbr: TestEmulator) -> None:
    body = json.dumps(
        {"error_code": "BackupService.6703", "error_msg": "The backup has been shared."}
    )
    cbr.fault("raw", method="POST", path="/members", status=400, body=body)
    with pytest.raises(AlreadySharedError) as raised:
        cbr.client.share(BACKUP, [P1], raise_on_failure=True)
    assert raised.value.service_code == "BackupService.6703"
    assert [r.result for r in raised.value.report.results] == ["failed"]


def test_a_mixed_batch_returns_its_report_or_raises_it(vbs: TestEmulator) -> None:
    ids = [r.share_id for r in vbs.client.share(BACKUP, [P1, P2]).results]
    assert all(ids)
    vbs.fault("status", method="DELETE", status=400, count=1)
    with pytest.raises(PartialFailure) as raised:
        vbs.client.cancel(ids, concurrency=1, raise_on_failure=True)
    report = raised.value.report
    assert sorted(r.result for r in report.results) == ["canceled", "failed"]


def test_the_project_limit_is_typed(isolated: Path) -> None:
    with emulator(max_targets=1) as emu:
        emu.client.share(BACKUP, [P1])
        with pytest.raises(ProjectLimitError):
            emu.client.share(BACKUP, [P2], raise_on_failure=True)


@pytest.mark.parametrize(("code", "status"), sorted((c, 404 if issubclass(k, NotFoundError) else 400)
                                                    for c, k in SERVICE_CODES.items()))  # fmt: skip
def test_every_service_code_names_its_class(code: str, status: int) -> None:
    body = json.dumps({"error_code": code, "error_msg": "m"}).encode()
    error = error_from_response(status, {}, body)
    assert type(error) is SERVICE_CODES[code] and error.service_code == code


def test_a_code_answered_with_a_surprising_status_is_judged_by_the_status() -> None:
    body = json.dumps({"error_code": "BackupService.6703", "error_msg": "m"}).encode()
    assert type(error_from_response(503, {}, body)).__name__ == "UnavailableError"


# -- bad input: the CLI's usage errors, never a TypeError, nothing sent --------------------------
BAD_CALLS: list[tuple[Callable[[Client], object], str]] = [
    (lambda c: c.share(123, [P1]), "invalid backup 123: expected a string"),  # type: ignore[arg-type]
    (lambda c: c.share(BACKUP, 7), "invalid project ids 7"),  # type: ignore[arg-type]
    (lambda c: c.share(BACKUP, [1]), "invalid project id 1: expected a string"),  # type: ignore[list-item]
    (lambda c: c.share(BACKUP, ["nope"]), "invalid project id 'nope': expected 32 hex"),
    (lambda c: c.share(BACKUP, []), "no target projects"),
    (lambda c: c.share(BACKUP, [OWN]), "is the profile's own project"),
    (lambda c: c.share(BACKUP, [P1], wait=0), "invalid --wait 0"),
    (lambda c: c.share(BACKUP, [P1], wait="1"), "invalid --wait '1'"),  # type: ignore[arg-type]
    (lambda c: c.share(BACKUP, [P1], dry_run="yes"), "invalid dry_run 'yes'"),  # type: ignore[arg-type]
    (lambda c: c.share(BACKUP, [P1] * 11 + [P2] * 0 + [f"{i:032x}" for i in range(11)]), "at most"),
    (lambda c: c.backup(""), "an empty backup name"),
    (lambda c: c.backup(None), "invalid backup None"),  # type: ignore[arg-type]
    (lambda c: c.backups(limit=0), "invalid --limit 0: must be at least 1"),
    (lambda c: c.backups(page_size=True), "invalid --page-size True"),
    (lambda c: c.backups(status="gone"), "invalid --status 'gone': choose one of"),
    (lambda c: c.backups(volume_id="v"), "invalid volume id 'v'"),
    (lambda c: c.most_recent(3), "invalid volume id 3"),  # type: ignore[arg-type]
    (lambda c: c.shares(backup_id="b"), "invalid backup id 'b'"),
    (lambda c: c.shares(sort_dir="up"), "invalid --sort-dir 'up'"),
    (lambda c: c.count_shares(to_project="p"), "invalid project id 'p'"),
    (lambda c: c.show("x"), "invalid sharing id 'x'"),
    (lambda c: c.cancel(), "nothing to cancel"),
    (lambda c: c.cancel(backup_id=BACKUP, concurrency=0), "invalid --concurrency 0"),
    (lambda c: c.accept("b"), "invalid backup id 'b'"),
    (lambda c: c.accept(BACKUP, vault=5), "invalid vault id 5"),  # type: ignore[arg-type]
    (lambda c: c.reject({"id": BACKUP}), "invalid backup id {'id'"),  # type: ignore[arg-type]
    (lambda c: c.wait_available(BACKUP, -1), "invalid --wait -1"),
    (lambda c: c.wait_available(BACKUP, 5, 0), "invalid interval 0"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_bad_arguments_are_the_clis_usage_errors_and_send_nothing(
    vbs: TestEmulator, call: Callable[[Client], object], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        call(vbs.client)
    assert message in str(raised.value) and raised.value.exit_code == 2
    assert vbs.requests() == []


def test_what_a_service_cannot_do_is_refused_before_sending(cbr: TestEmulator) -> None:
    with pytest.raises(UsageError, match="CBR sharings have no ids"):
        cbr.client.cancel([MISSING])
    with pytest.raises(UsageError, match="--sort-key: not available on CBR"):
        list(cbr.client.shares(sort_key="created_at"))
    assert cbr.requests() == []


# -- the connection, threads, logging ------------------------------------------------------------
def test_a_closed_client_refuses_to_work(vbs: TestEmulator) -> None:
    client = vbs.client_for(vbs.project_id)
    with client:
        assert list(client.backups())
    with pytest.raises(UsageError, match="this Client is closed"):
        client.backup(BACKUP)


def test_one_client_serves_several_threads(vbs: TestEmulator) -> None:
    found: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            found.append(len(list(vbs.client.backups())))
        except BaseException as exc:  # reported below, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(set(found)) == 1 and len(found) == 4


def test_the_library_logs_the_debug_lines_redacted_and_prints_nothing(
    vbs: TestEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG, logger="backupshare"):
        vbs.client.share(BACKUP, [P1])
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "backupshare")
    assert f"> POST {vbs.url}/v2/{OWN}/os-vendor-backup-sharing" in logged
    assert "X-Auth-Token" in logged and vbs.token not in logged  # redacted, as --debug does
    assert capsys.readouterr() == ("", "")


def test_cancel_reports_progress(vbs: TestEmulator) -> None:
    vbs.client.share(BACKUP, [P1, P2, P3])
    steps: list[int] = []
    vbs.client.cancel(backup_id=BACKUP, progress=steps.append)
    assert sum(steps) == 3


# -- backupshare.testing ---------------------------------------------------------------------------
def test_the_testing_emulator_checks_its_options(isolated: Path) -> None:
    unknown = "unknown emulator option 'nope': the options are"
    with pytest.raises(UsageError, match=unknown), emulator(nope=1):
        pass
    with pytest.raises(UsageError, match="invalid service 'ebs'"), emulator(service="ebs"):
        pass


def test_the_testing_emulator_gives_projects_credentials_and_the_request_log(
    vbs: TestEmulator,
) -> None:
    assert vbs.url.startswith("http://127.0.0.1:") and vbs.project_id == OWN
    assert vbs.backups == [BACKUP_IDS["db-nightly"], BACKUP_IDS["web-weekly"]]
    list(vbs.client.backups())
    logged = vbs.requests("GET")
    assert logged and all(entry["path"] == f"/v2/{OWN}/backups/detail" for entry in logged)
    vbs.clear_requests()
    assert vbs.requests() == []
    with pytest.raises(UsageError, match="no credentials of project"):
        vbs.client_for(P3)
    with pytest.raises(UsageError, match="invalid fault 'melt'"):
        vbs.fault("melt")


def test_the_plugin_is_loaded_here_and_gives_its_fixture(
    pytestconfig: pytest.Config, backupshare_emulator: TestEmulator
) -> None:
    assert pytestconfig.pluginmanager.has_plugin("backupshare")
    assert backupshare_emulator.client.backup(BACKUP).status == "available"


@pytest.mark.backupshare_emulator(service="cbr", max_targets=1)
def test_the_fixture_takes_its_options_from_a_marker(backupshare_emulator: TestEmulator) -> None:
    assert backupshare_emulator.service == "cbr"
    backupshare_emulator.client.share(BACKUP, [P1])
    with pytest.raises(ProjectLimitError):
        backupshare_emulator.client.share(BACKUP, [P2], raise_on_failure=True)


def test_a_foreign_test_file_uses_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:cov", "test_foreign.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


FOREIGN_TEST = """
import pytest
from backupshare import NotFoundError


def test_my_job(backupshare_emulator):
    client = backupshare_emulator.client
    report = client.share("db-nightly", [backupshare_emulator.partner_project_id])
    assert report.changed
    assert len(backupshare_emulator.requests("POST")) == 1


@pytest.mark.backupshare_emulator(service="cbr")
def test_on_cbr(backupshare_emulator):
    with pytest.raises(NotFoundError):
        backupshare_emulator.client.backup("066b1e37-9305-4057-97e5-2e99b21fc71e")
"""


ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
    st.binary(max_size=8), st.lists(st.text(max_size=40), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.sampled_from([BACKUP, P1, "db-nightly", OWN, "available"]),
)  # fmt: skip
METHODS = {
    "share": 2, "backup": 1, "most_recent": 1, "show": 1, "accept": 2, "reject": 1,
    "wait_available": 3, "cancel": 1,
}  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=st.sampled_from(sorted(METHODS)), values=st.lists(ANYTHING, min_size=3, max_size=3))
def test_any_argument_gives_one_of_our_errors_never_a_crash(
    refused_port: int, method: str, values: list[Any]
) -> None:
    # Whatever a caller passes: our usage error, or (for arguments good enough to send) the
    # error of a service nobody answers at — never a TypeError from inside.
    with Client.from_env({}, endpoint=f"http://127.0.0.1:{refused_port}", project_id=OWN,
                         token="t", retries=0) as client:  # fmt: skip
        call = getattr(client, method)
        try:
            result = call(*values[: METHODS[method]])
            if hasattr(result, "pages"):
                list(result)
        except BackupshareError:
            pass
