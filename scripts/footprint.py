#!/usr/bin/env python3
"""Measures what statio costs and writes docs/FOOTPRINT.md: `python3 scripts/footprint.py`.

Builds (x86_64 Linux; needs rustup's x86_64-unknown-linux-musl target, valgrind):
- `size_of` of the native EventLoop for three capacity sets (examples/nostd_echo's
  `loop_sizes`);
- `nostd_echo`, the std `echo` example and a mio 1.x echo (benches/examples/mio_echo.rs),
  each static for musl with the `min-size` profile, stripped: file sizes;
- each server's VmRSS/RssAnon idle, with 1,000 idle loopback connections, and after they
  close (/proc/PID/status), the median of RUNS runs (the kernel places the stack at a
  random offset, so a small process's stack spans one page more in some runs than others);
- heap allocations (valgrind memcheck's summary) of `echo` and `mio_echo` built for glibc
  (`release`), serving 10 connections with one echo each.
"""

import os
import re
import resource
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MUSL = "x86_64-unknown-linux-musl"
CONNS = 1000
RUNS = 5

BUILDS = {
    "nostd_echo": (["-p", "nostd-echo", "--bin", "nostd_echo"], "nostd_echo"),
    "echo (std)": (["-p", "statio", "--example", "echo"], "examples/echo"),
    "mio 1.x echo": (["-p", "statio-benches", "--example", "mio_echo"], "examples/mio_echo"),
}


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def build(args, profile, target=None):
    cmd = ["cargo", "build", "-q", "--profile", profile] + args
    if target:
        cmd += ["--target", target]
    run(cmd)


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(value.split()[0])
    return fields


def start(binary, port):
    proc = subprocess.Popen(
        [binary, f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    line = proc.stdout.readline().decode()
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"{binary} did not start: {line!r}")
    return proc


def rss(binary, port):
    proc = start(binary, port)
    try:
        time.sleep(0.2)
        idle = status(proc.pid)
        conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNS)]
        # One echo on the last connection: every accept has been served by then.
        conns[-1].sendall(b"x")
        assert conns[-1].recv(1) == b"x"
        time.sleep(0.2)
        loaded = status(proc.pid)
        for c in conns:
            c.close()
        time.sleep(0.5)
        closed = status(proc.pid)
        return idle, loaded, closed
    finally:
        proc.kill()
        proc.wait()


def median_rss(binary, port):
    """`rss` RUNS times: per phase and field, the median and the range seen."""
    runs = [rss(binary, port) for _ in range(RUNS)]
    phases = []
    for phase in range(3):
        fields = {}
        for key in ("VmRSS", "RssAnon"):
            values = sorted(run[phase][key] for run in runs)
            fields[key] = (values[len(values) // 2], values[0], values[-1])
        phases.append(fields)
    return phases


def cell(value):
    """A median, with the range when runs differed."""
    med, lo, hi = value
    return f"{med}" if lo == hi else f"{med} ({lo}-{hi})"


def heap(binary, port):
    """valgrind's `total heap usage` line for the server serving 10 one-echo clients."""
    log = os.path.join(ROOT, "target", f"valgrind-{port}.log")
    proc = subprocess.Popen(
        ["valgrind", f"--log-file={log}", binary, f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        line = proc.stdout.readline().decode()
        assert "listening" in line, line
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                c.sendall(b"hello\n")
                assert c.recv(16) == b"hello\n"
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    text = open(log).read()
    m = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees, ([\d,]+) bytes allocated", text)
    return f"{m.group(1)} allocs, {m.group(3)} bytes" if m else "no summary"


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))

    sizes = run(
        ["cargo", "run", "-q", "-p", "nostd-echo", "--bin", "loop_sizes"],
        capture_output=True, text=True,
    ).stdout

    rows = []
    for port, (name, (args, path)) in enumerate(BUILDS.items(), start=7900):
        build(args, "min-size", MUSL)
        binary = os.path.join(ROOT, "target", MUSL, "min-size", path)
        size = os.path.getsize(binary)
        idle, loaded, closed = median_rss(binary, port)
        rows.append((name, size, idle, loaded, closed))

    heaps = []
    for port, (name, (args, path)) in enumerate(BUILDS.items(), start=7950):
        if name == "nostd_echo":
            heaps.append((name, "none possible: no allocator is linked"))
            continue
        build(args, "release")
        heaps.append((name, heap(os.path.join(ROOT, "target", "release", path), port)))

    kernel = os.uname().release
    out = [
        "# Footprint",
        "",
        "Written by `python3 scripts/footprint.py` (rerun it to refresh; x86_64 Linux, needs",
        f"`rustup target add {MUSL}` and valgrind). Kernel {kernel}.",
        "",
        "## `size_of` the native `EventLoop`",
        "",
        sizes.strip(),
        "",
        "## Servers",
        "",
        "Built static for musl with the `min-size` profile (opt-level z, LTO, one codegen",
        "unit, panic = abort, stripped), e.g.:",
        "",
        "```sh",
        f"cargo build -p nostd-echo --profile min-size --target {MUSL}",
        f"cargo build --example echo --profile min-size --target {MUSL}",
        f"cargo build -p statio-benches --example mio_echo --profile min-size --target {MUSL}",
        "```",
        "",
        "`nostd_echo`'s build script also links the static musl build with",
        "`-z noseparate-code -z norelro`, so code, read-only data and writable data need",
        "fewer page-aligned segments (see examples/nostd_echo/build.rs).",
        "",
        f"Memory in KiB from /proc/PID/status: idle after start-up; with {CONNS:,} idle",
        f"loopback connections open; after they all closed. Each the median of {RUNS} runs,",
        "with the range in brackets where runs differed: the kernel starts the stack at a",
        "random offset, so it spans a page more in some runs.",
        "",
        "| server | stripped size (bytes) | VmRSS idle | RssAnon idle | VmRSS 1,000 | RssAnon 1,000 | VmRSS closed | RssAnon closed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, size, idle, loaded, closed in rows:
        out.append(
            f"| {name} | {size:,} ({size / 1024:.1f} KiB) "
            + "".join(f"| {cell(p[k])} " for p in (idle, loaded, closed) for k in ("VmRSS", "RssAnon"))
            + "|"
        )
    out += [
        "",
        "## Heap allocations",
        "",
        "valgrind memcheck's `total heap usage` over a whole run (glibc `release` build,",
        "10 connections with one echo each, then SIGTERM). For the std echo these are std's",
        "runtime start-up (argument parsing, stdout); statio allocates nothing",
        "(tests/zero_alloc.rs asserts zero on the loop's thread).",
        "",
        "| server | heap allocations |",
        "|---|---|",
    ]
    out += [f"| {name} | {h} |" for name, h in heaps]
    out.append("")
    path = os.path.join(ROOT, "docs", "FOOTPRINT.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
