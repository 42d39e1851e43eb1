#!/usr/bin/env python3
"""Marginal user-space instructions and syscalls per ping-pong round trip.

Runs each implementation of the `pingpong` bench alone, at K pairs (default 64), once
with R and once with 2R round trips, under `valgrind --tool=callgrind` and under
`strace -c -f`, and prints

    instructions per round trip = (Ir(2R) - Ir(R)) / R
    syscalls per round trip     = (calls(2R) - calls(R)) / R

so that start-up, socket creation and registration cancel out. Both counts are
deterministic: one thread drives every socket, so each epoll_wait returns the same
batch whatever the machine's speed.

    python3 benches/scripts/instructions.py                # K=64, R=20000
    python3 benches/scripts/instructions.py --pairs 1 --round-trips 5000
    python3 benches/scripts/instructions.py --markdown     # tables for docs/BENCHMARKS.md

The callgrind profiles stay in target/pingpong-counts/ for `callgrind_annotate`.
Needs valgrind and strace (`apt-get install -y valgrind strace`).
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMPLS = ["raw", "statio", "mio"]
NAMES = {"raw": "raw epoll ET", "statio": "statio EventLoop (epoll)", "mio": "mio 1.x"}


def build() -> str:
    """Builds the bench in the bench profile (release + debug info) and returns its path."""
    out = subprocess.run(
        ["cargo", "bench", "-p", "statio-benches", "--bench", "pingpong", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "pingpong" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("cargo built no pingpong executable")


def run_args(impl: str, pairs: int, active: int, round_trips: int) -> list[str]:
    return ["--impl", impl, "--pairs", str(pairs), "--active", str(active),
            "--round-trips", str(round_trips)]


def instructions(exe: str, args: list[str], out: Path) -> int:
    """Ir of the whole process (user space: callgrind sees no kernel instructions)."""
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", exe, *args],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for line in out.read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    sys.exit(f"no totals in {out}")


def syscalls(exe: str, args: list[str], out: Path) -> dict[str, tuple[int, int]]:
    """Per syscall: (calls, errors), from `strace -c -f`, plus 'total'."""
    subprocess.run(
        ["strace", "-c", "-f", "-o", str(out), exe, *args],
        check=True, stdout=subprocess.DEVNULL,
    )
    counts = {}
    for line in out.read_text().splitlines():
        # % time  seconds  usecs/call  calls  [errors]  syscall
        fields = line.split()
        if not fields or not re.match(r"^[\d.]+$", fields[0]):
            continue
        name = fields[-1]
        numbers = fields[3:-1]
        calls = int(numbers[0])
        errors = int(numbers[1]) if len(numbers) > 1 else 0
        counts[name] = (calls, errors)
    if "total" not in counts:
        sys.exit(f"no total in {out}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--active", type=int, help="active pairs (default: all)")
    parser.add_argument("--round-trips", type=int, default=20_000, help="R")
    parser.add_argument("--impl", action="append", choices=IMPLS, help="default: all")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    opts = parser.parse_args()
    for tool in ["valgrind", "strace"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install -y {tool}")
    exe = build()
    active = opts.active or opts.pairs
    r = opts.round_trips
    out_dir = ROOT / "target" / "pingpong-counts"
    out_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for impl in opts.impl or IMPLS:
        ir, calls = [], []
        for n in (r, 2 * r):
            stem = out_dir / f"{impl}-k{opts.pairs}-a{active}-r{n}"
            args = run_args(impl, opts.pairs, active, n)
            ir.append(instructions(exe, args, stem.with_suffix(".callgrind")))
            calls.append(syscalls(exe, args, stem.with_suffix(".strace")))
        per_rt = (ir[1] - ir[0]) / r
        names = sorted(set(calls[0]) | set(calls[1]) - {"total"})
        marginal = {}
        for name in names:
            c0, e0 = calls[0].get(name, (0, 0))
            c1, e1 = calls[1].get(name, (0, 0))
            if c1 - c0:
                marginal[name] = ((c1 - c0) / r, (e1 - e0) / r)
        total = (calls[1]["total"][0] - calls[0]["total"][0]) / r
        rows.append((impl, per_rt, total, marginal))

    print(f"K={opts.pairs} pairs, {active} active, R={r} and 2R={2 * r} round trips; "
          f"marginal per round trip\n")
    if opts.markdown:
        print("| implementation | instructions | syscalls | of which (errors) |")
        print("|---|---:|---:|---|")
    for impl, per_rt, total, marginal in rows:
        detail = ", ".join(
            f"{name} {c:.3f}" + (f" ({e:.3f} failed)" if e else "")
            for name, (c, e) in marginal.items() if name != "total"
        )
        if opts.markdown:
            print(f"| {NAMES[impl]} | {per_rt:.1f} | {total:.3f} | {detail} |")
        else:
            print(f"{NAMES[impl]:<26} {per_rt:8.1f} instructions {total:7.3f} syscalls  "
                  f"[{detail}]")
    print(f"\ncallgrind profiles: {out_dir.relative_to(ROOT)}/*.callgrind "
          f"(callgrind_annotate --inclusive=yes FILE)")


if __name__ == "__main__":
    main()
