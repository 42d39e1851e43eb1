#!/usr/bin/env python3
"""Runs the pingpong suite and draws its throughput ratios to the raw epoll loop as an SVG.

    python3 benches/scripts/chart.py                      # run the suite, write the chart
    python3 benches/scripts/chart.py --csv results.csv    # chart an earlier run's CSV

Writes docs/pingpong.svg (change with --out): one line per implementation, the median
per-round ratio to the raw loop (1.0) against K, the number of busy pairs, on a log axis.
The sparse case (1,024 pairs, 8 active) is drawn as a lone point per implementation.
The SVG is written by hand: no plotting library needed.
"""

import argparse
import csv
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLOURS = ["#555555", "#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def run_suite(csv_path: Path) -> None:
    subprocess.run(
        ["cargo", "bench", "-p", "statio-benches", "--bench", "pingpong", "--",
         "--csv", str(csv_path)],
        cwd=ROOT, check=True,
    )


def load(csv_path: Path) -> list[dict]:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["pairs"] = int(row["pairs"])
        row["active"] = int(row["active"])
        row["ratio"] = float(row.get("paired_ratio") or row["ratio_to_raw"])
    return rows


def svg(rows: list[dict], title: str) -> str:
    width, height = 640, 400
    left, right, top, bottom = 70, 220, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    dense = [r for r in rows if r["pairs"] == r["active"]]
    sparse = [r for r in rows if r["pairs"] != r["active"]]
    ks = sorted({r["pairs"] for r in dense})
    ratios = [r["ratio"] for r in rows] + [1.0]
    lo = math.floor(min(ratios) * 10 - 0.5) / 10
    hi = math.ceil(max(ratios) * 10 + 0.5) / 10
    # x: log2(K) on the dense cases; the sparse case gets its own slot at the right.
    slots = len(ks) + (1 if sparse else 0)

    def x_of(i: int) -> float:
        return left + plot_w * (i + 0.5) / slots

    def y_of(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">{title}</text>',
    ]
    # Grid and y labels every 0.1.
    steps = round((hi - lo) * 10)
    for s in range(steps + 1):
        v = lo + s / 10
        y = y_of(v)
        stroke = "#999" if abs(v - 1.0) < 1e-9 else "#e5e5e5"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="{stroke}"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}x</text>')
    labels = [f"K = {k:,}" for k in ks] + (
        [f"{sparse[0]['pairs']:,} pairs, {sparse[0]['active']} active"] if sparse else [])
    for i, label in enumerate(labels):
        out.append(f'<text x="{x_of(i):.1f}" y="{top + plot_h + 20}" '
                   f'text-anchor="middle">{label}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">'
               f'busy socket pairs K (each with one byte in flight)</text>')
    out.append(f'<text transform="translate(18,{top + plot_h / 2}) rotate(-90)" '
               f'text-anchor="middle">round trips/s, ratio to raw epoll</text>')
    if sparse:
        xs = (x_of(len(ks) - 1) + x_of(len(ks))) / 2
        out.append(f'<line x1="{xs:.1f}" y1="{top}" x2="{xs:.1f}" y2="{top + plot_h}" '
                   f'stroke="#ccc" stroke-dasharray="4 3"/>')
    names = list(dict.fromkeys(r["implementation"] for r in rows))
    for n, name in enumerate(names):
        colour = COLOURS[n % len(COLOURS)]
        points = [(x_of(ks.index(r["pairs"])), y_of(r["ratio"]))
                  for r in dense if r["implementation"] == name]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                   f'stroke-width="2"/>')
        for r in rows:
            if r["implementation"] != name:
                continue
            i = ks.index(r["pairs"]) if r in dense else len(ks)
            x, y = x_of(i), y_of(r["ratio"])
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
            out.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" fill="{colour}" '
                       f'font-size="10">{r["ratio"]:.2f}</text>')
        ly = top + 10 + 20 * n
        lx = left + plot_w + 20
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"/>')
        out.append(f'<text x="{lx + 30}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, help="chart this CSV instead of running the suite")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "pingpong.svg")
    parser.add_argument("--title", default="ping-pong throughput vs the raw epoll loop")
    opts = parser.parse_args()
    csv_path = opts.csv
    if csv_path is None:
        csv_path = ROOT / "target" / "pingpong.csv"
        run_suite(csv_path)
    rows = load(csv_path)
    if not rows:
        sys.exit(f"{csv_path} holds no results")
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(svg(rows, opts.title))
    print(f"wrote {opts.out}")


if __name__ == "__main__":
    main()
