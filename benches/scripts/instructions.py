#!/usr/bin/env python3
"""Marginal user-space instructions and syscalls per ping-pong round trip.

Runs each implementation of the `pingpong` bench alone, at K pairs (default: K = 1, the
latency-bound case of one event per turn, and K = 64), once with R and once with 2R
round trips, under `valgrind --tool=callgrind` and under `strace -c -f`, and prints

    instructions per round trip = (Ir(2R) - Ir(R)) / R
    syscalls per round trip     = (calls(2R) - calls(R)) / R

so that start-up, socket creation and registration cancel out. Both counts are
deterministic: one thread drives every socket, so each epoll_wait returns the same
batch whatever the machine's speed.

    python3 benches/scripts/instructions.py                # K=1 and K=64, R=20000
    python3 benches/scripts/instructions.py --pairs 64 --round-trips 5000
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


def measure(exe: str, impl: str, pairs: int, active: int, r: int, out_dir: Path):
    """(instructions, syscalls, {syscall: (calls, errors)}) per round trip, marginal."""
    ir, calls = [], []
    for n in (r, 2 * r):
        stem = out_dir / f"{impl}-k{pairs}-a{active}-r{n}"
        args = run_args(impl, pairs, active, n)
        ir.append(instructions(exe, args, stem.with_suffix(".callgrind")))
        calls.append(syscalls(exe, args, stem.with_suffix(".strace")))
    names = sorted(set(calls[0]) | set(calls[1]) - {"total"})
    marginal = {}
    for name in names:
        c0, e0 = calls[0].get(name, (0, 0))
        c1, e1 = calls[1].get(name, (0, 0))
        if c1 - c0:
            marginal[name] = ((c1 - c0) / r, (e1 - e0) / r)
    total = (calls[1]["total"][0] - calls[0]["total"][0]) / r
    return (ir[1] - ir[0]) / r, total, marginal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[1, 64], help="K values")
    parser.add_argument("--active", type=int, help="active pairs (default: all)")
    parser.add_argument("--round-trips", type=int, default=20_000, help="R")
    parser.add_argument("--impl", action="append", choices=IMPLS, help="default: all")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    opts = parser.parse_args()
    for tool in ["valgrind", "strace"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: apt-get install -y {tool}")
    exe = build()
    r = opts.round_trips
    out_dir = ROOT / "target" / "pingpong-counts"
    out_dir.mkdir(parents=True, exist_ok=True)
    impls = opts.impl or IMPLS

    results = {}
    for pairs in opts.pairs:
        active = opts.active or pairs
        for impl in impls:
            results[(impl, pairs)] = measure(exe, impl, pairs, active, r, out_dir)

    def detail(marginal):
        return ", ".join(
            f"{name} {c:.3f}" + (f" ({e:.3f} failed)" if e else "")
            for name, (c, e) in marginal.items() if name != "total"
        )

    def vs_raw(impl, pairs):
        raw = results.get(("raw", pairs))
        return f"{results[(impl, pairs)][0] / raw[0]:.2f}x" if raw else "-"

    print(f"R={r} and 2R={2 * r} round trips, all pairs active unless --active; "
          f"marginal per round trip\n")
    if opts.markdown:
        head = "| implementation |"
        rule = "|---|"
        for pairs in opts.pairs:
            head += f" K = {pairs}: instructions | vs raw | syscalls |"
            rule += "---:|---:|---:|"
        print(head)
        print(rule)
        for impl in impls:
            row = f"| {NAMES[impl]} |"
            for pairs in opts.pairs:
                per_rt, total, _ = results[(impl, pairs)]
                row += f" {per_rt:.1f} | {vs_raw(impl, pairs)} | {total:.3f} |"
            print(row)
        print("\n| implementation | K | syscalls per round trip, by call |")
        print("|---|---:|---|")
        for pairs in opts.pairs:
            for impl in impls:
                print(f"| {NAMES[impl]} | {pairs} | {detail(results[(impl, pairs)][2])} |")
    else:
        for pairs in opts.pairs:
            print(f"K={pairs}")
            for impl in impls:
                per_rt, total, marginal = results[(impl, pairs)]
                print(f"  {NAMES[impl]:<26} {per_rt:8.1f} instructions ({vs_raw(impl, pairs):>5} "
                      f"raw) {total:7.3f} syscalls  [{detail(marginal)}]")
    print(f"\ncallgrind profiles: {out_dir.relative_to(ROOT)}/*.callgrind "
          f"(callgrind_annotate --inclusive=yes FILE)")


if __name__ == "__main__":
    main()
