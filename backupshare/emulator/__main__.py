"""`python -m backupshare.emulator` and `backupshare emulator`: one parser for both."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from .cbr import backup_record
from .core import (
    CREDENTIAL_KINDS,
    DEFAULT_AKSK,
    DEFAULT_PROJECT,
    DEFAULT_TOKEN,
    DEFAULT_USER,
    Emulator,
    EmulatorConfig,
    ProjectCredential,
)
from .formats import lenient_project_id, lenient_uuid
from .safety import serves_loopback_only
from .schema import BackupSeed
from .seeding import (
    MAX_GENERATED_BACKUPS,
    parse_auto_answer_option,
    parse_backup_option,
    parse_vault_option,
)
from .server import make_server

ENV_PREFIX = "BACKUPSHARE_EMULATOR_"
SWITCHES = (
    "verbose",
    "allow_remote",
    "cbr_server_backups_only",
)  # on/off options; their variables say 1/0, true/false, ...
TRUE_WORDS = ("1", "true", "yes", "on")
BANNER_BACKUPS = 20  # per project, in the banner's CBR part: the newest
FALSE_WORDS = ("", "0", "false", "no", "off")


def _pair(value: str) -> tuple[str, str]:
    first, sep, second = value.partition(":")
    if not sep or not first or not second:
        raise argparse.ArgumentTypeError(f"expected A:B, got {value!r}")
    return first, second


def _project(value: str) -> str:
    project = lenient_project_id(value)
    if project is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a project id (32 hex characters)")
    return project


def _backup(value: str) -> str:
    """Checked now (so a mistake is a usage error naming the option), read for good once the
    project id and the backup's place in the list are known."""
    try:
        parse_backup_option(value, DEFAULT_PROJECT, "backup")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _vault(value: str) -> str:
    """Checked now, read for good once the project id is known (like --backup)."""
    try:
        parse_vault_option(value, DEFAULT_PROJECT)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _auto_answer(value: str) -> str:
    try:
        parse_auto_answer_option(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _count(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_GENERATED_BACKUPS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number 0 to {MAX_GENERATED_BACKUPS}, got {value!r}"
        )
    return int(value)


def _credential(value: str) -> ProjectCredential:
    project, _, rest = value.partition(":")
    kind, _, secret_part = rest.partition(":")
    canonical = lenient_project_id(project)
    if canonical is None:
        raise argparse.ArgumentTypeError(
            f"{project!r} is not a project id (32 hex characters); "
            "expected PROJECT:token:TOKEN, PROJECT:user:NAME:PASSWORD or PROJECT:aksk:AK:SK"
        )
    if kind not in CREDENTIAL_KINDS:
        raise argparse.ArgumentTypeError(
            f"credential kind {kind!r} is not one of {', '.join(CREDENTIAL_KINDS)}"
        )
    if kind == "token":
        if not secret_part:
            raise argparse.ArgumentTypeError("expected PROJECT:token:TOKEN")
        return ProjectCredential(canonical, kind, secret_part)
    name, secret = _pair(secret_part)
    return ProjectCredential(canonical, kind, name, secret)


def _encrypted(value: str) -> str:
    canonical = lenient_uuid(value)
    if canonical is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a backup id (a UUID)")
    return canonical


# Repeatable options: their variables hold comma-separated values.
REPEATABLE: dict[str, Callable[[str], object]] = {
    "token": str,
    "user": _pair,
    "aksk": _pair,
    "backup": _backup,
    "encrypted_backup": _encrypted,
    "credential": _credential,
    "vault": _vault,
    "auto_answer": _auto_answer,
}


class Parser(argparse.ArgumentParser):
    """argparse with the tool's own error shape: one `error:` line and a hint, exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\nhint: see '{self.prog} --help'\n")
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="backupshare emulator",
        description="Run a local emulator of the VBS backup-sharing API and backup list, CBR's "
        "backups, share members and vaults (same port, any project id with credentials), and "
        "IAM tokens. "
        f"Every option also reads {ENV_PREFIX}<OPTION> from the environment.",
        epilog="example: backupshare emulator --port 0 --ready-file /tmp/emulator.url "
        "--db /tmp/emulator.sqlite",
    )
    env = os.environ.get

    def default(name: str, fallback: str | None) -> str | None:
        return env(ENV_PREFIX + name.upper().replace("-", "_"), fallback)

    p.add_argument(
        "--host",
        default=default("host", "127.0.0.1"),
        help="address to bind: loopback only, unless --allow-remote",
    )
    p.add_argument("--port", type=int, default=default("port", "8776"), help="0 picks a free port")
    p.add_argument("--db", default=default("db", ":memory:"), help="SQLite file (default: memory)")
    p.add_argument("--project-id", type=_project, default=default("project-id", DEFAULT_PROJECT))
    p.add_argument("--token", action="append", default=None, help="a token to accept")
    p.add_argument("--user", action="append", type=_pair, default=None, help="NAME:PASSWORD")
    p.add_argument(
        "--aksk",
        action="append",
        type=_pair,
        default=None,
        help="AK:SK of the own user: like an IAM access key it signs for every project served",
    )
    p.add_argument(
        "--credential",
        action="append",
        type=_credential,
        default=None,
        metavar="PROJECT:KIND:VALUE",
        help="another project's credential: PROJECT:token:TOKEN, PROJECT:user:NAME:PASSWORD or "
        "PROJECT:aksk:AK:SK (default: the partner project's, shown in the banner)",
    )
    p.add_argument(
        "--backup",
        action="append",
        type=_backup,
        default=None,
        metavar="ID[:STATUS][:KEY=VALUE]...",
        help="a backup to seed instead of the demo ones; keys: name, volume, created (ISO-8601), "
        "size (GB), available-after (seconds: creating until then), project (its owner). "
        "example: --backup 066b1e37-9305-4057-97e5-2e99b21fc71d:creating:name=db:"
        "available-after=30",
    )
    p.add_argument("--encrypted-backup", action="append", type=_encrypted, default=None)
    p.add_argument(
        "--vault",
        action="append",
        type=_vault,
        default=None,
        metavar="KEY=VALUE[:KEY=VALUE]...",
        help="a CBR vault to make (repeatable); keys: project (default: the own one), type "
        "(disk, server, ...; default disk), size (GB, default 1000), used (MB, default 0), "
        "name, id, count (that many alike vaults). A project given vaults has those alone. "
        "example: --vault project=722513ed0a324dadaabe5b2d0fe848c9:size=50:used=40960",
    )
    p.add_argument(
        "--auto-answer",
        action="append",
        type=_auto_answer,
        default=None,
        metavar="[PROJECT:]STATUS[:SECONDS]",
        help="answer offers to PROJECT (default: every project) on its behalf, SECONDS "
        "(default 10) of emulator time after each is made: accepted (into its roomiest vault "
        "of the backup's type, if one has room) or rejected. example: --auto-answer accepted:30",
    )
    p.add_argument(
        "--seed-backups",
        type=_count,
        default=default("seed-backups", "0"),
        metavar="N",
        help="generate N backups of the own project, spread over volumes, vaults and 90 days, "
        "a third of them shared (VBS sharings and CBR members); the same for the same "
        "--random-seed",
    )
    p.add_argument(
        "--random-seed",
        type=int,
        metavar="S",
        default=default("random-seed", "0"),
        help="the seed of --seed-backups",
    )
    p.add_argument("--max-targets", type=int, default=default("max-targets", "10"))
    p.add_argument(
        "--error-style", choices=("vbs", "cinder", "apig"), default=default("error-style", "vbs")
    )
    p.add_argument(
        "--cbr-duplicate-code",
        choices=("6714", "6703"),
        default=default("cbr-duplicate-code", "6714"),
        help="CBR's error for adding a project that is already a member (the docs leave "
        "BackupService.6714 or 6703 open)",
    )
    p.add_argument(
        "--cbr-server-backups-only",
        action="store_true",
        help="behave like a region where CBR shares only cloud-server backups: sharing a disk "
        "backup is refused with BackupService.6700",
    )
    p.add_argument("--latency-ms", type=int, default=default("latency-ms", "0"))
    p.add_argument("--failure-rate", type=float, default=default("failure-rate", "0"))
    p.add_argument("--page-cap", type=int, default=default("page-cap", None))
    p.add_argument("--token-ttl", type=int, default=default("token-ttl", "86400"), help="seconds")
    p.add_argument("--clock-skew", type=int, default=default("clock-skew", "0"), help="seconds")
    p.add_argument("--seed-shares", type=int, default=default("seed-shares", "0"))
    p.add_argument("--tls-cert", default=default("tls-cert", None), help="PEM file: serve https")
    p.add_argument("--tls-key", default=default("tls-key", None), help="its key, if separate")
    p.add_argument(
        "--ready-file",
        metavar="FILE",
        default=default("ready-file", None),
        help="once listening, write the base URL (one line) to FILE, atomically, so a script "
        "can wait for it (removed again on a clean stop). The first line on stdout also says "
        "'backupshare emulator listening on URL'",
    )
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that other machines can reach (0.0.0.0, a LAN address); "
        "the admin API still answers loopback clients only",
    )
    p.add_argument(
        "--admin-key",
        default=default("admin-key", None),
        help="GET /_emulator/requests shows the credentials it received only to a caller "
        "sending this key in X-Emulator-Admin-Key (default: never)",
    )
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options; an on/off or repeatable option absent from argv is taken from its variable
    (checked like the flag, and a bad value is a usage error that names the variable)."""
    p = parser()
    args = p.parse_args(argv)
    for name in SWITCHES:
        variable, value = ENV_PREFIX + name.upper(), os.environ.get(ENV_PREFIX + name.upper())
        if getattr(args, name) or value is None:
            continue
        if value.strip().lower() not in TRUE_WORDS + FALSE_WORDS:
            p.error(f"{variable}={value!r}: expected 1 or 0 (true/false, yes/no)")
        setattr(args, name, value.strip().lower() in TRUE_WORDS)
    for name, convert in REPEATABLE.items():
        variable, value = ENV_PREFIX + name.upper(), os.environ.get(ENV_PREFIX + name.upper())
        if getattr(args, name) or not value:
            continue
        try:
            items = [convert(item.strip()) for item in value.split(",") if item.strip()]
        except argparse.ArgumentTypeError as exc:
            p.error(f"{variable}: {exc}")
        setattr(args, name, items)
    return args


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    tokens = args.token or [DEFAULT_TOKEN]
    users = args.user or [DEFAULT_USER]
    keys = args.aksk or [DEFAULT_AKSK]
    backups = None
    chosen = args.backup or []
    if chosen or args.encrypted_backup:
        backups = [
            parse_backup_option(text, args.project_id, f"backup-{i + 1}")
            for i, text in enumerate(chosen)
        ] + [
            BackupSeed(backup_id, args.project_id, f"encrypted-{i + 1}", encrypted=True)
            for i, backup_id in enumerate(args.encrypted_backup or [])
        ]
    vaults = [
        vault for text in args.vault or [] for vault in parse_vault_option(text, args.project_id)
    ]
    answers = [parse_auto_answer_option(text) for text in args.auto_answer or []]
    return EmulatorConfig(
        vaults=vaults,
        auto_answers=answers,
        seed_backups=args.seed_backups,
        random_seed=args.random_seed,
        project_id=args.project_id,
        tokens=tokens,
        users=users,
        keys=keys,
        credentials=args.credential,
        backups=backups,
        max_targets=args.max_targets,
        error_style=args.error_style,
        latency_ms=args.latency_ms,
        failure_rate=args.failure_rate,
        page_cap=args.page_cap,
        token_ttl_seconds=args.token_ttl,
        clock_skew_seconds=args.clock_skew,
        db=args.db,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        admin_key=args.admin_key or None,
        cbr_duplicate_code=f"BackupService.{args.cbr_duplicate_code}",
        cbr_server_backups_only=args.cbr_server_backups_only,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    config = config_from_args(args)
    if not args.allow_remote and not serves_loopback_only(args.host):
        sys.stderr.write(
            f"error: refusing to listen on {args.host or 'every address'}: not a loopback "
            "address, so other machines could use the emulator and its public test credentials\n"
            "hint: use --host 127.0.0.1, or add --allow-remote to serve other machines on purpose\n"
        )
        return 2
    ready_file = Path(args.ready_file) if args.ready_file else None
    if ready_file is not None:
        try:  # a file left by an earlier run must not pass for this one's signal
            ready_file.unlink(missing_ok=True)
        except OSError as exc:
            print(f"error: cannot remove the old ready file {ready_file}: {exc}", file=sys.stderr)
            return 3
    try:
        emulator, server = make_server(config, args.host, args.port)
        server.allow_remote = args.allow_remote  # any Host header, not only loopback names
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 8
    except Exception as exc:  # a bad --db file, for one
        print(f"error: cannot start the emulator: {exc}", file=sys.stderr)
        return 3

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Before anything is announced: whoever reads the banner may stop the emulator at once,
    # and that is a clean stop (0), never the CLI's "interrupted".
    signal.signal(signal.SIGTERM, stop)
    try:
        if args.verbose:
            from .server import Handler

            Handler.quiet = False
        if args.seed_shares:
            emulator.seed_shares(args.seed_shares)
        host, port = server.server_address[:2]
        url = f"{server.scheme}://{host!s}:{port}"
        if not serves_loopback_only(str(host)):
            sys.stderr.write(remote_warning(url))
            sys.stderr.flush()
        if ready_file is not None:
            try:
                write_atomically(ready_file, url + "\n")
            except OSError as exc:
                print(f"error: cannot write the ready file {ready_file}: {exc}", file=sys.stderr)
                return 3
        for note in dict.fromkeys(emulator.notes):  # on stderr: scripts read the banner
            sys.stderr.write(f"note: {note}\n")
        print(banner(config, url, emulator.store.backups(config.project_id), cbr_lines(emulator)))
        sys.stdout.flush()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if ready_file is not None:  # stopped: whoever reads it now must not find a dead URL
            with contextlib.suppress(OSError):
                ready_file.unlink()
    return 0


def write_atomically(path: Path, text: str) -> None:
    """Writes `text` to `path` so that a reader sees either no file or all of it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def remote_warning(url: str) -> str:
    """What --allow-remote costs, said where it cannot be missed."""
    return (
        f"WARNING: the emulator listens on {url}, which other machines may reach.\n"
        "WARNING: its credentials are public test values: anyone who can connect can use them.\n"
        "WARNING: use it only on a network you trust; the admin API (/_emulator/*) still "
        "answers loopback clients only.\n"
    )


def cbr_lines(emulator: Emulator) -> list[str]:
    """What CBR shows each project the emulator holds credentials of: its vaults (type, used
    MB of size GB, CBR's units), and the backups it owns or is offered (with the offer's
    status); a project with many backups shows the newest few."""
    lines = ["  CBR        : (same URL, /v3/{project_id}/...)"]
    for project in emulator.projects():
        lines.append(f"    project {project}:")
        for vault in emulator.store.vaults(project):
            lines.append(
                f"      vault {vault['id']} {vault['name']} ({vault['object_type']}, "
                f"{vault['used']} MB used of {vault['size']} GB)"
            )
        rows = emulator.store.visible_backups(project, own=True, shared=True)
        home = emulator.store.home_vault(project)
        shown = sorted(rows, key=lambda row: (row["created_at"], row["id"]))
        if len(shown) > BANNER_BACKUPS:
            lines.append(f"      ... {len(shown) - BANNER_BACKUPS} older backups")
            shown = shown[-BANNER_BACKUPS:]
        for row in shown:
            owner = row["project_id"]
            record = backup_record(row, home if owner == project else None)
            offer = f"  shared to it: {row['member_status']}" if row["member_status"] else ""
            encrypted = " encrypted" if record["extend_info"]["encrypted"] else ""
            lines.append(
                f"      {record['id']}  {record['status']:<10} {record['name']}{encrypted}{offer}"
            )
    return lines


def banner(
    config: EmulatorConfig,
    url: str,
    backups: list[dict[str, object]],
    cbr: list[str] | None = None,
) -> str:
    lines = [
        f"backupshare emulator listening on {url}",
        f"  project id : {config.project_id}",
        f"  tokens     : {', '.join(config.tokens)}",
        f"  users      : {', '.join(f'{u}:{p}' for u, p in config.users)} (any domain)",
        f"  AK:SK      : {', '.join(f'{a}:{s}' for a, s in config.keys)}",
    ]
    others: dict[str, list[str]] = {}
    for credential in config.other_credentials():
        others.setdefault(credential.project_id, []).append(
            f"{credential.kind} {credential.shown()}"
        )
    for project, shown in others.items():
        lines.append(f"  project    : {project} ({', '.join(shown)})")
    lines.append("  backups    :")
    if len(backups) > BANNER_BACKUPS:  # oldest first: the newest few stay
        lines.append(f"    ... {len(backups) - BANNER_BACKUPS} older backups")
        backups = backups[-BANNER_BACKUPS:]
    for backup in backups:
        flags = " encrypted" if backup["encrypted"] else ""
        lines.append(
            f"    {backup['id']}  {backup['status']:<10} {backup['name']}{flags}"
            f"  (volume {backup['volume_id']}, created {backup['created_at']})"
        )
    lines += cbr or []
    lines.append("Stop with Ctrl-C.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
