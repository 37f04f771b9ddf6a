"""Issue #24's smaller points, each against the emulator: list-shares -c, the chosen backup's
notice, did-you-mean, and the rest of an operator's first hour."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.core import DEMO_VOLUME

from .helpers import BACKUP, OWN, P1, P2


def share_ids(emulator: RunningEmulator) -> list[str]:
    return [record["id"] for record in emulator.emulator.store.query(OWN, {})]


# -- list-shares -c/--column -------------------------------------------------------------------------
def test_columns_select_and_order_csv(cli: Any, emulator: RunningEmulator) -> None:
    emulator.emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    [share_id] = share_ids(emulator)
    result = cli(
        "list-shares", "-o", "csv", "-c", "to_project_id", "--column", "backup-id", "-c", "id"
    )
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == ["to_project_id,backup_id,id", f"{P1},{BACKUP},{share_id}"]


def test_columns_select_and_order_a_plain_table(cli: Any, emulator: RunningEmulator) -> None:
    emulator.emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    result = cli("list-shares", "-c", "backup_id", "-c", "status")
    assert result.code == 0
    header, row = result.out.splitlines()
    assert header.split() == ["BACKUP", "ID", "STATUS"]
    assert row.split() == [BACKUP, "available"]


def test_an_unknown_column_lists_the_valid_ones(cli: Any) -> None:
    result = cli("list-shares", "-c", "backup_nmae")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: invalid --column 'backup_nmae': choose one of id, backup_id, backup_name, "
        "from_project_id, to_project_id, status, backup_status, backup_size, created_at, "
        "updated_at, volume_id, availability_zone",
        "hint: did you mean 'backup_name' or 'backup_size'?",
    ]


# -- share says which backup it chose ----------------------------------------------------------------
def test_share_by_name_says_which_backup_it_chose(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightly", P1, "-o", "json")
    assert result.code == 0, result.err
    created = str(emulator.emulator.store.backup(BACKUP)["created_at"])
    shown = created.replace("T", " ").split(".")[0]
    assert result.err.splitlines() == [f"sharing backup {BACKUP} (db-nightly, created {shown} UTC)"]


def test_most_recent_says_which_backup_it_chose(cli: Any) -> None:
    result = cli("share", "--volume-id", DEMO_VOLUME, "--most-recent", P1, "-o", "json")
    assert result.code == 0, result.err
    assert result.err.startswith(f"sharing backup {BACKUP} (db-nightly, created ")


def test_quiet_share_by_name_says_nothing(cli: Any) -> None:
    result = cli("share", "db-nightly", P1, "-q", "-o", "json")
    assert (result.code, result.err) == (0, "")


def test_share_by_id_needs_no_notice(cli: Any) -> None:
    result = cli("share", BACKUP, P1, "-o", "json")
    assert (result.code, result.err) == (0, "")


def test_a_mistyped_backup_name_suggests_the_near_one(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightlx", P1)
    assert (result.code, result.out) == (5, "")
    assert result.err.splitlines() == [
        "error: no backup named 'db-nightlx'",
        "hint: did you mean 'db-nightly'?",
    ]
    assert not emulator.emulator.store.query(OWN, {})  # nothing was shared


# -- README's CI section: --limit, not | head ------------------------------------------------------
def test_limit_under_pipefail_is_what_the_readme_teaches(
    emulator: RunningEmulator, tmp_path: Any
) -> None:
    import os
    import subprocess

    from .helpers import BIN, ROOT

    readme = (ROOT / "README.md").read_text()
    assert "**Take the first N records with `--limit N`, not `| head`.**" in readme
    emulator.emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to list, not under test
    env = dict(os.environ, BACKUPSHARE_ENDPOINT=emulator.url, BACKUPSHARE_PROJECT_ID=OWN,
               BACKUPSHARE_TOKEN="emulator-token")  # fmt: skip
    script = f'set -eo pipefail; "{BIN}" list-shares -o ids --limit 1 | cat'
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert (done.returncode, len(done.stdout.splitlines())) == (0, 1), done.stderr


# -- configuration ----------------------------------------------------------------------------------
def test_dev_null_as_the_config_file_is_an_empty_configuration(cli: Any, monkeypatch: Any) -> None:
    import json

    monkeypatch.setenv("BACKUPSHARE_CONFIG", "/dev/null")
    shown = cli("config", "show", "-o", "json")
    assert (shown.code, shown.err) == (0, "")
    assert {r["key"]: r["value"] for r in json.loads(shown.out)}["config_file"] == "/dev/null"
    assert cli("list-shares", "-o", "ids").code == 0
    validated = cli("config", "validate")
    assert (validated.code, validated.out + validated.err) == (0, "/dev/null: valid\n")


def test_an_upper_case_region_is_lower_cased_from_every_source(
    cli: Any, monkeypatch: Any, isolated: Any
) -> None:
    import json

    def region_shown(*argv: str) -> str:
        result = cli("config", "show", "-o", "json", *argv)
        assert result.code == 0, result.err
        return str({r["key"]: r["value"] for r in json.loads(result.out)}["region"])

    assert region_shown("--region", "EU-DE") == "eu-de"
    monkeypatch.setenv("BACKUPSHARE_REGION", "EU-NL")
    assert region_shown() == "eu-nl"
    monkeypatch.delenv("BACKUPSHARE_REGION")
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    region: CN-NORTH-4\n")
    config.chmod(0o600)
    assert region_shown("--config", str(config)) == "cn-north-4"
    assert cli("config", "validate", "--config", str(config)).code == 0


def test_config_validate_states_the_timeout_range_exactly(cli: Any, isolated: Any) -> None:
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    timeout: 0\n")
    config.chmod(0o600)
    result = cli("config", "validate", "--config", str(config))
    assert result.code == 3
    assert result.err.splitlines()[0].endswith(
        "key 'timeout' (line 3): must be more than 0 and at most 3600 seconds"
    )


# -- progress counts -------------------------------------------------------------------------------
class TerminalText:
    """A stderr that says it is a terminal and keeps what was written."""

    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_the_listing_progress_says_one_record_not_one_records() -> None:
    from backupshare.output import Output

    stderr = TerminalText()
    out = Output(stderr=stderr)  # type: ignore[arg-type]
    with out.progress("listing sharings") as advance:
        advance(1)
    shown = stderr.buffer.getvalue()
    assert "listing sharings 1 record" in shown and "1 records" not in shown


# -- a timeout error says how hard it tried -----------------------------------------------------------
def test_a_timeout_says_how_many_attempts_were_made(
    cli: Any, emulator: RunningEmulator, backoff_waits: list[float]
) -> None:
    from .helpers import fault

    fault(emulator, "delay", method="GET", seconds=1, count=3)  # 10x the deadline
    result = cli("list-shares", "--timeout", "0.1", "--retries", "2")
    assert result.code == 8
    first = result.err.splitlines()[0]
    assert re.fullmatch(
        r"error: no answer from 127\.0\.0\.1:\d+ within 0\.1 s \(3 attempts\) \(client request id .*\)",
        first,
    )
    assert len(backoff_waits) == 2


# -- cancel ------------------------------------------------------------------------------------------
def test_cancel_reports_projects_in_the_order_given(cli: Any, emulator: RunningEmulator) -> None:
    import json

    from .helpers import P3

    emulator.emulator.store.share(OWN, BACKUP, [P1, P3])  # the state to end, not under test
    for dry_run in (["--dry-run"], []):
        result = cli("cancel", "--backup-id", BACKUP, "--to-project", P3, "--to-project", P2,
                     "--to-project", P1, "-o", "json", *dry_run)  # fmt: skip
        assert result.code == 0, result.err
        shown = [(r["to_project_id"], r["result"]) for r in json.loads(result.out)["results"]]
        assert shown == [(P3, "canceled"), (P2, "absent"), (P1, "canceled")]


# -- Ctrl-C while importing ---------------------------------------------------------------------------
# A child whose import of `module` is met by a SIGINT, raised from an import hook: the Ctrl-C of
# the first fraction of a second, at a known moment instead of a raced clock.
INTERRUPTED_IMPORT = """
import os, signal, sys

class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)  # Python raises KeyboardInterrupt right here
        return None

sys.meta_path.insert(0, Interrupting())
from backupshare.cli import main
main(["list-shares"])
"""


@pytest.mark.parametrize("module", ["backupshare.cli.invocation", "typer", "backupshare.cli.app"])
def test_ctrl_c_while_importing_exits_130_without_a_traceback(module: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT, module], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (130, "")
    assert done.stderr.splitlines() == [
        "error: interrupted",
        "hint: work in progress was stopped; re-run to finish",
    ]


# -- doctor --debug ------------------------------------------------------------------------------------
def test_doctor_debug_logs_its_requests_like_every_command(cli: Any) -> None:
    result = cli("--debug", "doctor")
    assert result.code == 0, result.err
    debug = [line for line in result.err.splitlines() if line.startswith("debug: ")]
    assert any("GET http://127.0.0.1:" in line for line in debug), result.err
    assert "emulator-token" not in result.err  # secrets redacted, as everywhere
    assert not any(line.startswith("debug: ") for line in cli("doctor").err.splitlines())


# -- did you mean ------------------------------------------------------------------------------------
def test_a_mistyped_output_format_suggests_the_near_one(cli: Any) -> None:
    result = cli("list-shares", "-o", "jsn")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: invalid --output 'jsn': choose one of table, json, jsonl, yaml, csv, ids, dot",
        "hint: did you mean 'json' or 'jsonl'?",
    ]


def test_a_mistyped_option_suggests_the_near_one(cli: Any) -> None:
    result = cli("list-shares", "--shared-with-mee")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: no such option: --shared-with-mee",
        "hint: did you mean '--shared-with-me'? see 'backupshare list-shares --help'",
    ]
    far = cli("list-shares", "--zzz")
    assert far.err.splitlines()[1] == "hint: see 'backupshare list-shares --help'"


def test_a_mistyped_config_key_suggests_the_near_one(cli: Any, isolated: Any) -> None:
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    endpiont: http://x\n    auth: {methd: token}\n")
    config.chmod(0o600)
    result = cli("config", "validate", "--config", str(config))
    assert result.code == 3
    first, second = result.err.splitlines()[:2]
    assert "key 'endpiont' (line 3): unknown key (did you mean 'endpoint'? known: cloud," in first
    assert second.endswith("key 'auth.methd' (line 4): unknown key (did you mean 'method'?)")


def test_the_cbr_backups_table_marks_an_encrypted_backup(cli: Any) -> None:
    cbr = cli("--service", "cbr", "backups")
    assert cbr.code == 0, cbr.err
    rows = {line.split()[0]: line for line in cbr.out.splitlines()[1:]}
    assert rows["vault-encrypted"].split()[1] == "(encrypted)"
    assert "(encrypted)" not in rows["db-nightly"]
    vbs = cli("backups")  # VBS's record does not say: nothing is marked
    assert vbs.code == 0 and "(encrypted)" not in vbs.out


# -- help that pastes: the walk of every --help ----------------------------------------------------------
def help_paths() -> list[str]:
    from .test_help_examples import all_commands

    # `emulator --help` is the emulator's own (argparse), tested with it
    return sorted(path for path, _ in all_commands() if path != "backupshare emulator")


@pytest.mark.parametrize("path", help_paths())
def test_every_help_pastes_at_80_columns(cli: Any, monkeypatch: Any, path: str) -> None:
    from backupshare.cli.typer_internals import epilog_lines

    from .test_help_examples import all_commands

    monkeypatch.setenv("COLUMNS", "80")
    command = dict(all_commands())[path]
    shown = cli(*path.split()[1:], "--help")
    assert shown.code == 0, shown.err
    assert not re.search(r"<(str|int|float|bool|list\[)", shown.out), shown.out  # metavars only
    lines = [line.strip() for line in shown.out.splitlines()]
    _, examples, _ = epilog_lines(command.epilog or "")
    for example in examples:  # each whole on a line of its own, however long
        assert example in lines, f"{example!r} is wrapped or missing in:\n{shown.out}"
    quiet = [p.opts[0] for p in command.params
             if p.param_type_name == "option" and not p.hidden and not p.help]  # fmt: skip
    assert quiet == [], f"options without a help line in {path}"


def test_completion_help_gives_the_readmes_install_lines(cli: Any, monkeypatch: Any) -> None:
    from .helpers import readme_block

    monkeypatch.setenv("COLUMNS", "60")
    shown = cli("completion", "--help")
    assert shown.code == 0
    install = readme_block("completion:install").strip().splitlines()
    at = [line.strip() for line in shown.out.splitlines()].index(install[0])
    assert [line.strip() for line in shown.out.splitlines()[at : at + len(install)]] == install


def test_help_topics_are_the_reference_pages(cli: Any) -> None:
    from .helpers import ROOT

    for topic in ("exit-codes", "configuration", "output", "commands", "wire", "emulator"):
        shown = cli("help", topic)
        assert (shown.code, shown.out) == (0, (ROOT / "docs" / f"{topic}.md").read_text())
    mistyped = cli("help", "exit-code")
    assert (mistyped.code, mistyped.err.splitlines()[1]) == (
        2,
        "hint: did you mean 'exit-codes'? see 'backupshare --help'",
    )


# -- hints fit the service (CBR) --------------------------------------------------------------------------
@pytest.fixture
def cbr(cli: Any, monkeypatch: Any) -> Any:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    return cli


def as_partner(monkeypatch: Any) -> None:
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", P1)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", "partner-token")


def test_a_cbr_permission_refusal_asks_for_cbr_permissions(
    cbr: Any, emulator: RunningEmulator
) -> None:
    from .helpers import fault

    body = '{"error_code": "APIG.0302", "error_msg": "not allowed"}'
    fault(emulator, "raw", method="GET", status=403, body=body)
    result = cbr("backups")
    assert result.code == 4
    assert result.err.splitlines()[1] == (
        "hint: these credentials are not allowed to do this; ask for CBR permissions"
    )


def test_accepting_ones_own_backup_says_accept_is_for_the_receiver(cbr: Any) -> None:
    result = cbr("accept", BACKUP)
    assert result.code == 5
    assert result.err.splitlines()[1] == (
        f"hint: accept is for the receiving project: backup {BACKUP} belongs to this project "
        f"({OWN}); run `backupshare -p PROFILE accept {BACKUP}` with the profile of a project "
        "it was shared with"
    )


def test_cbr_refusing_a_backup_being_made_suggests_wait(cbr: Any) -> None:
    from .helpers import CREATING

    result = cbr("share", CREATING, P1)
    assert result.code == 6
    assert result.err.splitlines()[-1] == (
        "hint: only backups in status available can be shared; wait for it with --wait SECONDS"
    )


def test_cbr_offers_show_the_backup_id_once(cbr: Any, monkeypatch: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    result = cbr("list-shares", "--shared-with-me")
    assert result.code == 0, result.err
    header, row = result.out.splitlines()
    assert header.split()[:4] == ["BACKUP", "ID", "BACKUP", "NAME"]
    assert row.count(BACKUP) == 1 and row.split()[:3] == [BACKUP, "db-nightly", OWN]
    csv = cbr("list-shares", "--shared-with-me", "-o", "csv")  # csv keeps its fixed header
    assert csv.out.splitlines()[0].startswith("id,backup_id,")


def test_the_owners_member_listing_names_the_backup(cbr: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    result = cbr("list-shares", "--backup-id", BACKUP)
    assert result.code == 0, result.err
    row = result.out.splitlines()[1].split()
    assert row[1:6] == [BACKUP, "db-nightly", P1, "pending", "40"]


def test_accept_tables_use_the_usual_header_style(cbr: Any, monkeypatch: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    result = cbr("accept", BACKUP)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].split() == [
        "BACKUP", "ID", "TO", "PROJECT", "ID", "STATUS", "VAULT", "ID"
    ]  # fmt: skip


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


def test_doctor_on_cbr_checks_with_a_cbr_call(cbr: Any, emulator: RunningEmulator) -> None:
    import json

    result = cbr("doctor", "-o", "json")
    assert result.code == 0, result.err
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["credentials"]["detail"].startswith("token accepted; ")
    assert steps["credentials"]["detail"].endswith(" backups")
    [call] = [r for r in emulator.emulator.logged("GET") if r["path"].startswith("/v3/")]
    assert call["path"] == f"/v3/{OWN}/backups"


def test_list_shares_name_is_re_checked_exactly(cli: Any, emulator: RunningEmulator) -> None:
    import json

    from .helpers import BACKUP2

    emulator.emulator.store.share(OWN, BACKUP, [P1])  # the state to list, not under test
    emulator.emulator.store.share(OWN, BACKUP2, [P1])
    exact = cli("list-shares", "--name", "db-nightly", "-o", "json")
    assert [r["backup_id"] for r in json.loads(exact.out)] == [BACKUP]
    loose = cli("list-shares", "--name", "db", "-o", "json")  # the service's loose match: "db…"
    assert (loose.code, json.loads(loose.out)) == (0, [])
    assert emulator.emulator.logged("GET", "/detail")[-1]["query"]["name"] == "db"
