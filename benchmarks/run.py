"""Benchmarks of whole-process runs against the local emulator, each with its baseline in the same
run; writes the results table into benchmarks/README.md (between the RESULTS markers).

    python benchmarks/run.py            # all, ~2 minutes
    python benchmarks/run.py --quick    # fewer repetitions
    python benchmarks/run.py --compare 228c422   # HEAD and 228c422 side by side (side_by_side.py)

Not a test: nothing here asserts a time. Medians of repeated runs; the machine and date are
recorded with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests
from sections import set_section

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "backupshare"
PROJECT = "c13f5220dc1949b0b741ea81a7cd5554"
TOKEN = "emulator-token"

MINIMAL_TYPER = """
import typer
app = typer.Typer(rich_markup_mode=None, add_completion=False)
@app.command()
def share(backup_id: str, project_ids: list[str]) -> None:
    '''Share a backup.'''
@app.command()
def other() -> None:
    '''Another.'''
app()
"""

FLOOR_LIST = """
import json, sys, requests
base, token = sys.argv[1], sys.argv[2]
session = requests.Session()
offset, out = 0, sys.stdout
while True:
    page = session.get(base + "/detail", params={"limit": "100", "offset": str(offset)},
                       headers={"X-Auth-Token": token}, timeout=30).json()["shared"]
    if not page:
        break
    out.write("".join(json.dumps(r) + "\\n" for r in page))
    offset += len(page)
"""

FLOOR_BACKUPS = """
import json, sys, requests
url, token = sys.argv[1], sys.argv[2]
session = requests.Session()
offset, out = 0, sys.stdout
while True:
    params = {"limit": "100", "offset": str(offset), "sort_key": "created_at", "sort_dir": "desc"}
    page = session.get(url, params=params, headers={"X-Auth-Token": token}, timeout=30).json()
    if not page["backups"]:
        break
    out.write("".join(json.dumps(r) + "\\n" for r in page["backups"]))
    offset += len(page["backups"])
"""
VOLUME = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"  # the demo volume


class Emulator:
    """`backupshare emulator` in a subprocess on a free port."""

    def __init__(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [str(BIN), "emulator", "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        self.url = first.rsplit(" ", 1)[1].strip()
        self.base = f"{self.url}/v2/{PROJECT}/os-vendor-backup-sharing"

    def seed(self, shares: int) -> None:
        requests.post(f"{self.url}/_emulator/seed", json={"shares": shares}, timeout=600)

    def sent(self, action: Callable[[], object]) -> int:
        """How many requests one run of `action` sent, from the emulator's request log."""
        log = f"{self.url}/_emulator/requests"
        before = len(requests.get(log, timeout=60).json())
        action()
        return len(requests.get(log, timeout=60).json()) - before

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BACKUPSHARE_ENDPOINT": self.url,
            "BACKUPSHARE_PROJECT_ID": PROJECT,
            "BACKUPSHARE_TOKEN": TOKEN,
            "NO_PROXY": "127.0.0.1",
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()


def timed(argv: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, env=env, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        text=True, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def median_of(runs: int, make: Callable[[], float], warmup: int = 2) -> float:
    for _ in range(warmup):
        make()
    return statistics.median(make() for _ in range(runs))


def peak_rss_mb(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one child process, from /usr/bin/time -v (or rusage where it is missing)."""
    if shutil.which("time") or Path("/usr/bin/time").exists():
        done = subprocess.run(
            ["/usr/bin/time", "-v", *argv], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, check=True,
        )  # fmt: skip
        match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if match:
            return int(match.group(1)) / 1024
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


Row = tuple[str, ...]  # what, backupshare, baseline, ratio, target (and requests, at the end)
SENT: dict[str, str] = {}  # a row's requests per run: ours · the baseline's (the emulator's log)


def note_requests(label: str, *counts: int | None) -> None:
    SENT[label] = " · ".join("-" if count is None else str(count) for count in counts)


def startup(runs: int, work: Path) -> list[Row]:
    minimal = work / "minimal_typer.py"
    minimal.write_text(MINIMAL_TYPER)
    python = median_of(runs, lambda: timed([sys.executable, "-c", "pass"]))
    typer_help = median_of(runs, lambda: timed([sys.executable, str(minimal), "--help"]))
    typer_sub = median_of(runs, lambda: timed([sys.executable, str(minimal), "share", "--help"]))
    complete = {**os.environ, "_BACKUPSHARE_COMPLETE": "complete_bash",
                "COMP_WORDS": "backupshare li", "COMP_CWORD": "1"}  # fmt: skip
    rows: list[Row] = []
    for label, argv, env, base, base_label, target in (
        ("`--version`", ["--version"], None, python, "python -c pass", 0.10),
        ("`--help`", ["--help"], None, typer_help, "minimal Typer app --help", 0.10),
        ("`share --help`", ["share", "--help"], None, typer_sub, "minimal Typer app share --help", 0.12),
        ("completion of a command name", [], complete, typer_help, "minimal Typer app --help", 0.10),
    ):  # fmt: skip
        ours = median_of(runs, lambda argv=argv, env=env: timed([str(BIN), *argv], env))
        rows.append(_row(label, ours, base, base_label, target))
    return rows


def _row(label: str, ours: float, base: float, base_label: str, target: float | str) -> Row:
    goal = f"≤ {target:.2f} s" if isinstance(target, float) else target
    met = "" if not isinstance(target, float) else (" ✓" if ours <= target else " ✗")
    return (
        label,
        f"{ours:.3f} s{met}",
        f"{base:.3f} s ({base_label})",
        f"{ours / base:.2f}×",
        goal,
    )


def round_trips(runs: int) -> list[Row]:
    emulator = Emulator(*[f"--backup={uuid.UUID(int=i + 1)}" for i in range(40)])
    try:
        env = emulator.env()
        targets = iter([(str(uuid.UUID(int=b + 1)), uuid.uuid4().hex)
                        for b in range(40) for _ in range(10)])  # fmt: skip

        def one_share() -> float:
            backup, project = next(targets)
            return timed([str(BIN), "share", backup, project], env)

        share = median_of(runs, one_share)
        note_requests("one `share` (list + POST)", emulator.sent(one_share), 0)
        # The floor of any Typer + requests CLI: importing the two, before any work.
        floor = median_of(runs, lambda: timed([sys.executable, "-c", "import typer, requests"]))
        emulator_seed_20 = Emulator()
        try:
            emulator_seed_20.seed(20)
            list_json = median_of(
                runs, lambda: timed([str(BIN), "list-shares", "-o", "json"], emulator_seed_20.env())
            )
            listing = [str(BIN), "list-shares", "-o", "json"]
            note_requests("`list-shares -o json`, 20 sharings",
                          emulator_seed_20.sent(lambda: timed(listing, emulator_seed_20.env())), 0)  # fmt: skip
        finally:
            emulator_seed_20.stop()
    finally:
        emulator.stop()
    return [
        _row("one `share` (list + POST)", share, floor, "import typer, requests", 0.20),
        _row(
            "`list-shares -o json`, 20 sharings", list_json, floor, "import typer, requests", 0.20
        ),
    ]


def cbr_against_vbs(runs: int) -> list[Row]:
    """CBR's share and list-shares, each against the same VBS command in the same run."""
    emulator = Emulator(*[f"--backup={uuid.UUID(int=i + 1)}" for i in range(80)])
    try:
        env = {"vbs": emulator.env(), "cbr": {**emulator.env(), "BACKUPSHARE_SERVICE": "cbr"}}
        first = {"vbs": 1, "cbr": 41}  # each service shares backups of its own
        targets = {
            service: iter([(str(uuid.UUID(int=b)), uuid.uuid4().hex)
                           for b in range(start, start + 40) for _ in range(10)])
            for service, start in first.items()
        }  # fmt: skip

        def one_share(service: str) -> float:
            backup, project = next(targets[service])
            return timed([str(BIN), "share", backup, project], env[service])

        share = {service: median_of(runs, lambda s=service: one_share(s)) for service in env}
        note_requests("CBR `share` (members, backup, POST)",
                      *(emulator.sent(lambda s=s: one_share(s)) for s in ("cbr", "vbs")))  # fmt: skip
        listed = {}
        for service, backup in (("vbs", uuid.UUID(int=1)), ("cbr", uuid.UUID(int=41))):
            argv = [str(BIN), "list-shares", "--backup-id", str(backup), "-o", "json"]
            listed[service] = median_of(runs, lambda a=argv, s=service: timed(a, env[s]))
            SENT[service] = str(emulator.sent(lambda a=argv, s=service: timed(a, env[s])))
        SENT["CBR `list-shares --backup-id`, 10 members"] = f"{SENT['cbr']} · {SENT['vbs']}"
    finally:
        emulator.stop()

    def row(label: str, figures: dict[str, float], vbs_label: str) -> Row:
        ratio = figures["cbr"] / figures["vbs"]
        return (label, f"{figures['cbr']:.3f} s", f"{figures['vbs']:.3f} s ({vbs_label})",
                f"{ratio:.2f}×{' ✓' if ratio <= 1.1 else ' ✗'}", "≤ 1.1× VBS")  # fmt: skip

    return [
        row("CBR `share` (members, backup, POST)", share, "VBS `share`"),
        row("CBR `list-shares --backup-id`, 10 members", listed, "VBS, 10 sharings"),
    ]


def finding_backups(runs: int) -> list[Row]:
    """`backups` over 10,000 backups against a bare requests loop over the same pages; and
    `share --volume-id V --most-recent` against a plain `share` plus one list request."""
    emulator = Emulator()
    try:
        seeds = [{"id": str(uuid.UUID(int=n + 1)), "name": f"b{n}", "volume": VOLUME}
                 for n in range(10_000)]  # fmt: skip
        requests.post(f"{emulator.url}/_emulator/seed", json={"backups": seeds}, timeout=600)
        env = emulator.env()
        url = f"{emulator.url}/v2/{PROJECT}/backups/detail"
        ours = median_of(runs, lambda: timed([str(BIN), "backups", "-o", "jsonl"], env), 1)
        floor = median_of(runs, lambda: timed([sys.executable, "-c", FLOOR_BACKUPS, url, TOKEN]), 1)
        note_requests(
            "`backups -o jsonl`, 10,000 backups",
            emulator.sent(lambda: timed([str(BIN), "backups", "-o", "jsonl"], env)),
            emulator.sent(lambda: timed([sys.executable, "-c", FLOOR_BACKUPS, url, TOKEN])),
        )
    finally:
        emulator.stop()
    emulator = Emulator(*[f"--backup={uuid.UUID(int=i + 1)}:available:volume={uuid.UUID(int=i + 1)}"
                          for i in range(40)])  # fmt: skip
    try:
        env = emulator.env()
        targets = iter([(b, uuid.uuid4().hex) for b in range(1, 41) for _ in range(10)])

        def one(most_recent: bool) -> float:
            b, project = next(targets)
            which = (["--volume-id", str(uuid.UUID(int=b)), "--most-recent"] if most_recent
                     else [str(uuid.UUID(int=b))])  # fmt: skip
            return timed([str(BIN), "share", *which, project], env)

        plain = median_of(runs, lambda: one(False))
        newest = median_of(runs, lambda: one(True))
        note_requests("`share --volume-id V --most-recent`", emulator.sent(lambda: one(True)),
                      emulator.sent(lambda: one(False)) + 1)  # fmt: skip
        session = requests.Session()
        url = f"{emulator.url}/v2/{PROJECT}/backups/detail"
        params = {"volume_id": str(uuid.UUID(int=1)), "status": "available"}

        def one_list() -> float:
            started = time.perf_counter()
            session.get(url, params=params, headers={"X-Auth-Token": TOKEN}, timeout=30)
            return time.perf_counter() - started

        list_request = median_of(runs, one_list)
    finally:
        emulator.stop()
    ratio, base = ours / floor, plain + list_request
    return [
        ("`backups -o jsonl`, 10,000 backups", f"{ours:.2f} s",
         f"{floor:.2f} s (bare requests loop, same pages)",
         f"{ratio:.2f}×{' ✓' if ratio <= 1.25 else ' ✗'}", "≤ 1.25× the floor"),
        ("`share --volume-id V --most-recent`", f"{newest:.3f} s",
         f"{base:.3f} s (plain `share` + one list request)",
         f"{newest / base:.2f}×{' ✓' if newest / base <= 1.1 else ' ✗'}", "≤ 1.1×"),
    ]  # fmt: skip


def big_lists(runs: int) -> list[Row]:
    emulator = Emulator()
    try:
        emulator.seed(10_000)
        env = emulator.env()
        ours = median_of(runs, lambda: timed([str(BIN), "list-shares", "-o", "jsonl"], env), 1)
        floor = median_of(
            runs, lambda: timed([sys.executable, "-c", FLOOR_LIST, emulator.base, TOKEN], env), 1
        )
        note_requests(
            "`list-shares -o jsonl`, 10,000 sharings",
            emulator.sent(lambda: timed([str(BIN), "list-shares", "-o", "jsonl"], env)),
            emulator.sent(lambda: timed([sys.executable, "-c", FLOOR_LIST, emulator.base, TOKEN])),
        )
        rss_10k = peak_rss_mb([str(BIN), "list-shares", "-o", "jsonl"], env)
        emulator.seed(90_000)
        rss_100k = peak_rss_mb([str(BIN), "list-shares", "-o", "jsonl"], env)
    finally:
        emulator.stop()
    ratio = ours / floor
    return [
        ("`list-shares -o jsonl`, 10,000 sharings", f"{ours:.2f} s",
         f"{floor:.2f} s (bare requests loop, same pages)",
         f"{ratio:.2f}×{' ✓' if ratio <= 1.25 else ' ✗'}", "≤ 1.25× the floor"),
        ("peak RSS, jsonl of 10,000 → 100,000", f"{rss_10k:.0f} MB → {rss_100k:.0f} MB", "-", "-",
         f"flat, ≤ 60 MB{' ✓' if rss_100k <= 60 else ' ✗'}"),
    ]  # fmt: skip


def batch_cancel(runs: int) -> list[Row]:
    sent: dict[int, int] = {}  # requests of a run, by concurrency

    def run(concurrency: int) -> float:
        emulator = Emulator("--latency-ms", "50")
        try:
            emulator.seed(500)
            pages = requests.get(
                f"{emulator.base}/detail", params={"limit": "1000"},
                headers={"X-Auth-Token": TOKEN}, timeout=60,
            ).json()["shared"]  # fmt: skip
            ids = [s["id"] for s in pages]
            argv = [str(BIN), "cancel", *ids, "--concurrency", str(concurrency), "-q"]
            took: list[float] = []
            sent[concurrency] = emulator.sent(lambda: took.append(timed(argv, emulator.env())))
            return took[0]
        finally:
            emulator.stop()

    sequential = run(1)
    parallel = statistics.median(run(8) for _ in range(max(1, runs // 3)))
    note_requests("`cancel` of 500 ids, 50 ms latency", sent[8], sent[1])
    ratio = parallel / sequential
    return [
        ("`cancel` of 500 ids, 50 ms latency", f"{parallel:.2f} s", f"{sequential:.2f} s (--concurrency 1)",
         f"{ratio:.2f}×{' ✓' if ratio <= 0.15 else ' ✗'}", "≤ 0.15× sequential"),
    ]  # fmt: skip


def peers(runs: int) -> list[Row]:
    rows: list[Row] = []
    for name, argv in (("aws --version", ["aws", "--version"]),
                       ("openstack --version", ["openstack", "--version"])):  # fmt: skip
        if shutil.which(argv[0]):
            took = median_of(runs, lambda argv=argv: timed(argv))
            rows.append((f"peer: `{name}`", "-", f"{took:.3f} s", "-", "for comparison"))
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    return (
        f"{datetime.now(timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def write_readme(rows: list[Row], header: str) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    table = [
        f"Measured {header} with `python benchmarks/run.py`.",
        "",
        "| what | backupshare | baseline in the same run | ratio | target | requests ours · baseline |",
        "|---|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
    ]
    blank = "# Benchmarks\n\n<!-- RESULTS -->\n<!-- /RESULTS -->\n"
    text = readme.read_text() if readme.exists() else blank
    readme.write_text(set_section(text, "RESULTS", table, "Start-up and listing"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--compare", metavar="REF", help="HEAD and REF built and run alternately, with floors"
    )
    parser.add_argument("--runs", type=int, default=15, help="with --compare: alternated rounds")
    parser.add_argument(
        "--cpu", action="store_true", help="with --compare: CPU time of each run (user + system)"
    )
    args = parser.parse_args()
    if args.compare:
        from side_by_side import compare

        return compare(args.compare, max(4, args.runs), not args.no_write, args.cpu)
    runs = 5 if args.quick else 15
    with tempfile.TemporaryDirectory() as work:
        rows = startup(runs, Path(work))
    rows += round_trips(runs)
    rows += cbr_against_vbs(runs)
    rows += finding_backups(3 if args.quick else 5)
    rows += big_lists(3 if args.quick else 5)
    rows += batch_cancel(3 if args.quick else 6)
    rows += peers(runs)
    rows = [(*row, SENT.get(row[0], "-")) for row in rows]
    for row in rows:
        print(" | ".join(row))
    if not args.no_write:
        write_readme(rows, machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
