"""Benchmarks of `plan` and `apply` (issue #22) on VBS, each against a raw floor measured in the
same run: a bare `requests` script with a thread pool of the same size (8) that sends the same
requests (the backup listing, each backup's sharings read to the empty page, and for apply one
POST per backup). Writes its table into benchmarks/README.md between the POLICY markers.

    python benchmarks/policy.py            # ~3 minutes
    python benchmarks/policy.py --quick    # fewer repetitions

Not a test: nothing here asserts a time. Medians of repeated runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, PROJECT, ROOT, TOKEN, Emulator, machine, median_of, peak_rss_mb, timed
from sections import set_section

Row = tuple[str, str, str, str, str, str]
PROJECTS = [f"{n:02x}" + "cd" * 15 for n in range(1, 6)]  # five projects
BACKUPS = 500

# The floor of `plan`: the backups (1000 a page, to the empty page), then each one's sharings
# (100 a page, to the empty page) with a pool of 8 — the requests `plan` sends.
FLOOR_PLAN = """
import json, sys, requests
from concurrent.futures import ThreadPoolExecutor
base, token, apply = sys.argv[1], sys.argv[2], sys.argv[3] == "apply"
projects = sys.argv[4:]
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=8))
headers = {"X-Auth-Token": token}
def paged(url, params, key, size):
    offset, found = 0, []
    while True:
        page = session.get(url, params={**params, "limit": str(size), "offset": str(offset)},
                           headers=headers, timeout=30).json()[key]
        if not page:
            return found
        found += page
        offset += len(page)
backups = paged(base + "/backups/detail", {"status": "available", "sort_key": "created_at", "sort_dir": "desc"},
                "backups", 1000)
def converge(backup):
    shared = paged(base + "/os-vendor-backup-sharing/detail", {"backup_id": backup["id"]}, "shared", 100)
    missing = [p for p in projects if p not in {s["to_project_id"] for s in shared}]
    if apply and missing:
        body = {"shared": {"backup_id": backup["id"], "to_project_ids": missing}}
        session.post(base + "/os-vendor-backup-sharing", json=body, headers=headers,
                     timeout=30).raise_for_status()
    return missing
with ThreadPoolExecutor(8) as pool:
    rows = [(b["id"], p) for b, m in zip(backups, pool.map(converge, backups)) for p in m]
sys.stdout.write(json.dumps(rows))
"""


def sharings_file(work: Path, projects: list[str]) -> Path:
    path = work / "sharings.yaml"
    path.write_text(
        "version: 1\nsharings:\n  - name: all\n    backups: {name_prefix: b}\n"
        f"    to: [{', '.join(projects)}]\n"
    )
    return path


def emulator_with(count: int, latency: int, shared: list[str]) -> Emulator:
    """`count` available backups named bN, each shared with `shared` already."""
    emulator = Emulator("--latency-ms", str(latency), *[
        f"--backup={uuid.UUID(int=n + 1)}:available:name=b{n}" for n in range(count)
    ])  # fmt: skip
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def share(n: int) -> None:
        body = {"shared": {"backup_id": str(uuid.UUID(int=n + 1)), "to_project_ids": shared}}
        url = f"{emulator.url}/v2/{PROJECT}/os-vendor-backup-sharing"
        session.post(url, json=body, headers={"X-Auth-Token": TOKEN}, timeout=60).raise_for_status()

    if shared:
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(share, range(count)))
    return emulator


def sent(emulator: Emulator, argv: list[str], env: dict[str, str] | None = None) -> int:
    """The requests one run sends, counted from a cleared log (it holds 10,000 at most)."""
    log = f"{emulator.url}/_emulator/requests"
    requests.delete(log, timeout=60).raise_for_status()
    timed(argv, env)
    return len(requests.get(log, timeout=60).json())


def timed_and_sent(
    emulator: Emulator, argv: list[str], env: dict[str, str] | None
) -> tuple[float, int]:
    log = f"{emulator.url}/_emulator/requests"
    requests.delete(log, timeout=60).raise_for_status()
    took = timed(argv, env)
    return took, len(requests.get(log, timeout=60).json())


def plan_rows(runs: int, work: Path) -> list[Row]:
    path = sharings_file(work, PROJECTS)
    emulator = emulator_with(BACKUPS, 20, PROJECTS[:2])
    try:
        env, base = emulator.env(), f"{emulator.url}/v2/{PROJECT}"
        ours_argv = [str(BIN), "plan", "-f", str(path), "-o", "jsonl", "--concurrency", "8"]
        floor_argv = [sys.executable, "-c", FLOOR_PLAN, base, TOKEN, "plan", *PROJECTS]
        ours = median_of(runs, lambda: timed(ours_argv, env), 1)
        floor = median_of(runs, lambda: timed(floor_argv), 1)
        requests_ours, requests_floor = sent(emulator, ours_argv, env), sent(emulator, floor_argv)
        rss = peak_rss_mb(ours_argv, env)
    finally:
        emulator.stop()
    big = emulator_with(5000, 0, [])
    try:
        argv = [str(BIN), "plan", "-f", str(path), "-o", "jsonl"]
        rss_5k = peak_rss_mb(argv, big.env())
    finally:
        big.stop()
    ratio = ours / floor
    return [
        (f"`plan`, {BACKUPS} backups × 5 projects (2 shared), 20 ms a request", f"{ours:.2f} s",
         f"{floor:.2f} s", f"{ratio:.2f}×{' ✓' if ratio <= 1.3 else ' ✗'}", "≤ 1.3× the floor",
         f"{requests_ours} · {requests_floor}"),
        ("peak RSS, `plan -o jsonl`: 500 backups · 5,000 backups (25,000 rows)",
         f"{rss:.0f} MB · {rss_5k:.0f} MB", "-", "-", "memory: rows only", "-"),
    ]  # fmt: skip


def apply_rows(runs: int, work: Path) -> list[Row]:
    path = sharings_file(work, PROJECTS[:1])

    def ours() -> tuple[float, int]:
        emulator = emulator_with(BACKUPS, 50, [])
        try:
            argv = [str(BIN), "apply", "-f", str(path), "-q", "--concurrency", "8"]
            return timed_and_sent(emulator, argv, emulator.env())
        finally:
            emulator.stop()

    def floor() -> tuple[float, int]:
        emulator = emulator_with(BACKUPS, 50, [])
        try:
            base = f"{emulator.url}/v2/{PROJECT}"
            argv = [sys.executable, "-c", FLOOR_PLAN, base, TOKEN, "apply", PROJECTS[0]]
            return timed_and_sent(emulator, argv, None)
        finally:
            emulator.stop()

    mine = [ours() for _ in range(runs)]
    raw = [floor() for _ in range(runs)]
    mine_s, raw_s = statistics.median(t for t, _ in mine), statistics.median(t for t, _ in raw)
    ratio = mine_s / raw_s
    return [
        (f"`apply`, {BACKUPS} changes (one project added to each backup), 50 ms a request",
         f"{mine_s:.2f} s", f"{raw_s:.2f} s", f"{ratio:.2f}×{' ✓' if ratio <= 1.3 else ' ✗'}",
         "≤ 1.3× the floor", f"{mine[0][1]} · {raw[0][1]}"),
    ]  # fmt: skip


def write_readme(rows: list[Row], header: str) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    table = [
        f"Measured {header} with `python benchmarks/policy.py`; the floor is a bare `requests`",
        "script with a pool of 8 sending the same requests (counted from the emulator's log).",
        "",
        "| what | backupshare | floor in the same run | ratio | target | requests: ours · floor |",
        "|---|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
    ]
    title = "Sharings files: plan and apply (#22)"
    readme.write_text(set_section(readme.read_text(), "POLICY", table, title))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        rows = plan_rows(3 if args.quick else 5, Path(work))
        rows += apply_rows(1 if args.quick else 3, Path(work))
    for row in rows:
        print(" | ".join(row))
    if not args.no_write:
        write_readme(rows, machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
