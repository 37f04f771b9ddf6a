"""Benchmarks of the whole-project verbs on CBR (issue #21), each against a raw floor measured in
the same run: a bare `requests` script with a thread pool of the same size that sends the same
requests. Writes its table into benchmarks/README.md between the PROJECT markers.

    python benchmarks/whole_project.py            # ~2 minutes
    python benchmarks/whole_project.py --quick    # fewer repetitions

Not a test: nothing here asserts a time. Medians of repeated runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, PROJECT, ROOT, TOKEN, Emulator, machine, median_of, peak_rss_mb, timed
from sections import set_section

Row = tuple[str, str, str, str, str]
PARTNER = "722513ed0a324dadaabe5b2d0fe848c9"
CONCURRENCY = "8"

# The floor of `list-shares` across the project on CBR: list the project's backups (1000 a page),
# then each one's members with a pool of 8, written as JSON lines in the backups' order.
FLOOR_LIST = """
import json, sys, requests
from concurrent.futures import ThreadPoolExecutor
base, token = sys.argv[1], sys.argv[2]
session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=8))
headers = {"X-Auth-Token": token}
def backups():
    offset = 0
    while True:
        params = {"own_type": "private", "sort": "created_at:desc", "limit": "1000", "offset": str(offset)}
        page = session.get(base + "/backups", params=params, headers=headers, timeout=30).json()["backups"]
        if not page:
            return
        yield from page
        offset += len(page)
def members(backup):
    url = base + "/backups/" + backup["id"] + "/members"
    return session.get(url, params={"limit": "100", "offset": "0"}, headers=headers, timeout=30).json()["members"]
with ThreadPoolExecutor(8) as pool:
    for found in pool.map(members, backups()):
        sys.stdout.write("".join(json.dumps(m) + "\\n" for m in found))
"""

# The floor of `cancel --to-project P` on CBR: the same reads, then one DELETE per member with P.
FLOOR_CANCEL = FLOOR_LIST.replace(
    """with ThreadPoolExecutor(8) as pool:
    for found in pool.map(members, backups()):
        sys.stdout.write("".join(json.dumps(m) + "\\n" for m in found))""",
    """partner = sys.argv[3]
with ThreadPoolExecutor(8) as pool:
    ended = [m for found in pool.map(members, list(backups())) for m in found
             if m["dest_project_id"] == partner]
    def end(member):
        url = base + "/backups/" + member["backup_id"] + "/members/" + partner
        session.delete(url, headers=headers, timeout=30).raise_for_status()
    list(pool.map(end, ended))
""",
)


def cbr_env(emulator: Emulator) -> dict[str, str]:
    return {**emulator.env(), "BACKUPSHARE_SERVICE": "cbr"}


def seed_generated(emulator: Emulator, count: int) -> None:
    requests.post(
        f"{emulator.url}/_emulator/seed", json={"backup_count": count}, timeout=600
    ).raise_for_status()


def list_across(runs: int) -> list[Row]:
    emulator = Emulator("--latency-ms", "20", "--seed-backups", "1000")
    try:
        env, base = cbr_env(emulator), f"{emulator.url}/v3/{PROJECT}"
        argv = [str(BIN), "list-shares", "-o", "jsonl", "--concurrency", CONCURRENCY]
        ours = median_of(runs, lambda: timed(argv, env), 1)
        floor = median_of(runs, lambda: timed([sys.executable, "-c", FLOOR_LIST, base, TOKEN]), 1)
    finally:
        emulator.stop()
    emulator = Emulator("--seed-backups", "10000")
    try:
        rss_10k = peak_rss_mb([str(BIN), "list-shares", "-o", "jsonl"], cbr_env(emulator))
    finally:
        emulator.stop()
    ratio = ours / floor
    return [
        ("CBR `list-shares -o jsonl` across 1,000 backups, 20 ms a request", f"{ours:.2f} s",
         f"{floor:.2f} s (requests + a pool of 8, same requests)",
         f"{ratio:.2f}×{' ✓' if ratio <= 1.3 else ' ✗'}", "≤ 1.3× the floor"),
        ("peak RSS, CBR `list-shares -o jsonl` across 10,000 backups", f"{rss_10k:.0f} MB", "-",
         "-", f"≤ 60 MB{' ✓' if rss_10k <= 60 else ' ✗'}"),
    ]  # fmt: skip


def shared_with_partner(count: int) -> Emulator:
    """An emulator (50 ms a request) whose project has `count` backups, each shared with the
    partner project on CBR."""
    emulator = Emulator("--latency-ms", "50", *[
        f"--backup={uuid.UUID(int=n + 1)}:available:name=b{n}" for n in range(count)
    ])  # fmt: skip
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def share(n: int) -> None:
        url = f"{emulator.url}/v3/{PROJECT}/backups/{uuid.UUID(int=n + 1)}/members"
        answer = session.post(
            url, json={"members": [PARTNER]}, headers={"X-Auth-Token": TOKEN}, timeout=60
        )
        answer.raise_for_status()

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(share, range(count)))
    return emulator


def cancel_across(runs: int) -> list[Row]:
    def ours() -> float:
        emulator = shared_with_partner(500)
        try:
            argv = [str(BIN), "cancel", "--to-project", PARTNER, "--yes", "-q",
                    "--concurrency", CONCURRENCY]  # fmt: skip
            return timed(argv, cbr_env(emulator))
        finally:
            emulator.stop()

    def floor() -> float:
        emulator = shared_with_partner(500)
        try:
            base = f"{emulator.url}/v3/{PROJECT}"
            return timed([sys.executable, "-c", FLOOR_CANCEL, base, TOKEN, PARTNER])
        finally:
            emulator.stop()

    mine = statistics.median(ours() for _ in range(runs))
    raw = statistics.median(floor() for _ in range(runs))
    ratio = mine / raw
    return [
        ("CBR `cancel --to-project P`, 500 sharings, 50 ms a request", f"{mine:.2f} s",
         f"{raw:.2f} s (requests + a pool of 8, same requests)",
         f"{ratio:.2f}×{' ✓' if ratio <= 1.3 else ' ✗'}", "≤ 1.3× the floor"),
    ]  # fmt: skip


def write_readme(rows: list[Row], header: str) -> None:
    readme = ROOT / "benchmarks" / "README.md"
    table = [
        f"Measured {header} with `python benchmarks/whole_project.py`.",
        "",
        "| what | backupshare | floor in the same run | ratio | target |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
    ]
    title = "The whole project (CBR fan-out)"
    readme.write_text(set_section(readme.read_text(), "PROJECT", table, title))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    rows = list_across(3 if args.quick else 5) + cancel_across(1 if args.quick else 3)
    for row in rows:
        print(" | ".join(row))
    if not args.no_write:
        write_readme(rows, machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
