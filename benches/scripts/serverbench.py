"""What benches/scripts/bench_http.py and bench_kv.py share: the machine, starting and
pinning servers, and the per-server counters (CPU, syscalls, allocations, RSS). Never
run in CI.

A server is a binary that takes its address as its only argument (`127.0.0.1:0`) and
prints `NAME: listening on ADDR` as its first line of stdout, as statio's examples and
the peers in benches/examples do; or redis-server, started by bench_kv.py.
"""

import argparse
import csv
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_CPU = "0"
CLIENT_CPU = "1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ALLOC_SOURCE = Path(__file__).with_name("alloc_count.c")
FLOOR_SOURCE = ROOT / "benches" / "examples" / "floor.c"

# The syscalls broken out per request (perf tracepoints); the total counts them all.
SYSCALLS = ["epoll_wait", "epoll_pwait", "epoll_ctl", "read", "write", "readv", "writev",
            "recvfrom", "sendto", "recvmsg", "sendmsg", "accept4", "close", "futex"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def parser(doc, besides):
    """The options every script takes; the script adds its own."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--server", action="append", default=[], metavar="NAME=BINARY",
                   help=f"a server to measure besides {besides} (repeatable)")
    p.add_argument("--floor", action="store_true",
                   help="also measure `floor`, the least a server on epoll does per request "
                        "(benches/examples/floor.c, compiled here)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--idle", type=int, default=1000,
                   help="idle connections when memory is measured")
    p.add_argument("--out", default=None, help="the results' folder")
    return p


def prepare(args, kind, binaries):
    """Raises the descriptor limit, reads the machine, makes the results' folder and
    adds the --server binaries to `binaries` ({name: path}). Returns (machine,
    folder, names)."""
    raise_fd_limit()
    info = machine()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = Path(args.out or ROOT / "target" / "bench" / f"{kind}-{stamp}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for spec in args.server:
        name, _, binary = spec.partition("=")
        binaries[name] = str(Path(binary).resolve())
    if args.floor:
        binaries["floor"] = floor(out_dir, kind)
    if not binaries:
        raise SystemExit("no server to measure")
    log("machine:", info)
    return info, out_dir, list(binaries)


def raise_fd_limit():
    """1,000 connections need more descriptors than the usual 1,024 (inherited by the
    servers and load generators this process starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def machine():
    """Model, topology, kernel and load: printed with every run (timings depend on them)."""
    fields = {}
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    load = os.getloadavg()
    return {
        "cpu": fields.get("Model name", "?"),
        "topology": (f"{fields.get('CPU(s)', '?')} CPUs: {fields.get('Socket(s)', '?')} socket(s) x "
                     f"{fields.get('Core(s) per socket', '?')} core(s) x "
                     f"{fields.get('Thread(s) per core', '?')} thread(s)"),
        "kernel": os.uname().release,
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def machine_lines(info, finished=None):
    lines = [f"- CPU: {info['cpu']}; {info['topology']}",
             f"- kernel {info['kernel']}; load average (1/5/15 min) at start: {info['load']}"]
    if finished:
        lines.append(f"- load average at the end: {finished}")
    lines.append(f"- server pinned to CPU {SERVER_CPU}, load generator to CPU {CLIENT_CPU} (taskset)")
    return lines


def cargo_examples(names):
    """Builds benches/examples in release and returns {name: path}."""
    cmd = ["cargo", "build", "--release", "-q", "-p", "statio-benches"]
    for name in names:
        cmd += ["--example", name]
    log("+", " ".join(cmd))
    subprocess.run(cmd, cwd=ROOT, check=True)
    return {name: str(ROOT / "target" / "release" / "examples" / name) for name in names}


def c_compiler():
    """gcc or cc, whichever is installed; None for neither."""
    return shutil.which("gcc") or shutil.which("cc")


def alloc_library(out_dir):
    """Compiles the LD_PRELOAD allocation counter; None without a C compiler."""
    cc = c_compiler()
    if not cc:
        log("no C compiler: allocations are not counted")
        return None
    lib = Path(out_dir) / "alloc_count.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(lib), str(ALLOC_SOURCE), "-ldl"],
                   check=True)
    return str(lib)


def floor(out_dir, kind):
    """Compiles benches/examples/floor.c for `kind` ("http" or "kv": RESP)."""
    cc = c_compiler()
    if not cc:
        raise SystemExit("--floor needs a C compiler")
    binary = Path(out_dir) / f"floor_{kind}"
    resp = ["-DRESP"] if kind == "kv" else []
    subprocess.run([cc, "-O2", *resp, "-o", str(binary), str(FLOOR_SOURCE)], check=True)
    return str(binary)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One running server, pinned to SERVER_CPU (or to `cpus`, a taskset list)."""

    def __init__(self, name, argv, log_path, env=None, listens_by_line=True, port=None,
                 cpus=None):
        self.name = name
        full_env = dict(os.environ, **(env or {}))
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["taskset", "-c", cpus or SERVER_CPU] + argv, env=full_env,
                                     stdout=subprocess.PIPE if listens_by_line else self.log,
                                     stderr=self.log)
        self.pid = self.proc.pid  # taskset execs the server: the same process
        if listens_by_line:
            line = self.proc.stdout.readline().decode()
            m = re.search(r"listening on (\S+)", line)
            if not m:
                self.stop()
                raise SystemExit(f"{name} did not start: first line {line!r}, see {log_path}")
            host, _, port_text = m.group(1).rpartition(":")
            self.host, self.port = host.strip("[]"), int(port_text)
        else:
            self.host, self.port = "127.0.0.1", port
            wait_connectable(self.host, self.port, name)

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads), /proc/PID/stat fields 14-15."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def cpu_ns(self):
        """Time on a CPU, in ns, summed over the threads (/proc/PID/task/*/schedstat,
        first field): the same time as utime + stime, without the 10 ms ticks."""
        total = 0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                pass  # a thread that ended between the listing and the read
        return total

    def cpu(self):
        """(seconds from /proc/PID/stat, ns from schedstat), read together."""
        return self.cpu_seconds(), self.cpu_ns()

    def memory_kib(self):
        fields = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon"):
                    fields[key] = int(value.split()[0])
        return fields

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_connectable(host, port, name, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{name} is not accepting on {host}:{port}")


class SyscallCounter:
    """`perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_*` attached to a server
    for the length of a workload: exact counts, at a small cost to the server."""

    def __init__(self, pid, out_path):
        events = ["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{s}" for s in SYSCALLS]
        self.out_path = out_path
        self.proc = subprocess.Popen(["perf", "stat", "-x", ",", "-o", out_path,
                                      "-e", ",".join(events), "-p", str(pid)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached

    def stop(self):
        """{event: count}, the total under "total"."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)
        counts = {}
        for line in Path(self.out_path).read_text().splitlines():
            parts = line.split(",")
            if len(parts) < 3 or not parts[0].strip().isdigit():
                continue
            event = parts[2]
            name = "total" if event == "raw_syscalls:sys_enter" else event.rsplit("sys_enter_", 1)[-1]
            counts[name] = int(parts[0])
        return counts


def perf_works():
    if not shutil.which("perf"):
        return False
    probe = subprocess.run(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and "not supported" not in probe.stderr


def read_count(path):
    try:
        return int.from_bytes(Path(path).read_bytes()[:8], "little")
    except (OSError, ValueError):
        return None


def idle_connections(host, port, greeting, complete, n=1000):
    """Opens `n` connections; each sends `greeting` and reads until `complete(reply)`.
    Returns them, still open: what an idle keep-alive connection costs a server."""
    conns = []
    for _ in range(n):
        c = socket.create_connection((host, port), timeout=10)
        c.sendall(greeting)
        got = b""
        while not complete(got):
            chunk = c.recv(4096)
            if not chunk:
                raise SystemExit(f"a server closed an idle-connection probe after {got!r}")
            got += chunk
        conns.append(c)
    return conns


def interleaved(start, names, rounds, configs, measure):
    """Starts every server (`start(name)`), then for each round, each config, each
    server (their order rotating every round, so that none is always first after a
    given one) adds `measure(server, config)` (a dict) as a row; stops them. Returns
    the rows and the load average at the end."""
    servers = {name: start(name) for name in names}
    runs = []
    try:
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for config in configs:
                for name in order:
                    row = {"round": r + 1, "server": name, **measure(servers[name], config)}
                    runs.append(row)
                    log(row)
    finally:
        for server in servers.values():
            server.stop()
    return runs, " ".join(f"{x:.2f}" for x in os.getloadavg())


def counts(name, start, load, greeting, complete, idle, out_dir, perf, alloc_lib):
    """The deterministic counts of one server, each on a fresh process: syscalls per
    request (perf attached for one `load`), allocations per request (the LD_PRELOAD
    counter over one `load`) and memory at start and with `idle` connections that each
    sent `greeting` and read until `complete(reply)`.

    `start(log_path, env)` starts the server; `load(server)` runs the workload and
    returns how many requests it made."""
    out_dir = Path(out_dir)
    row = {"server": name}
    if perf:
        server = start(out_dir / f"{name}-syscalls.log", None)
        try:
            counter = SyscallCounter(server.pid, str(out_dir / f"{name}-perf.txt"))
            requests = load(server)
            for syscall, n in counter.stop().items():
                row[f"syscalls_{syscall}"] = round(n / requests, 3)
        finally:
            server.stop()
    if alloc_lib:
        count_file = out_dir / f"{name}-allocs.bin"
        env = {"LD_PRELOAD": alloc_lib, "ALLOC_COUNT_FILE": str(count_file)}
        server = start(out_dir / f"{name}-allocs.log", env)
        try:
            before = read_count(count_file)
            requests = load(server)
            row["allocs_per_req"] = round((read_count(count_file) - before) / requests, 3)
        finally:
            server.stop()
    server = start(out_dir / f"{name}-rss.log", None)
    conns = []
    try:
        time.sleep(0.2)
        first = server.memory_kib()
        conns = idle_connections(server.host, server.port, greeting, complete, idle)
        time.sleep(0.5)
        last = server.memory_kib()
        row.update({"rss_start_kib": first["VmRSS"], "rss_idle_kib": last["VmRSS"],
                    "anon_idle_kib": last["RssAnon"],
                    "kib_per_idle_conn": round((last["VmRSS"] - first["VmRSS"]) / idle, 2)})
    finally:
        for c in conns:
            c.close()
        server.stop()
    log(row)
    return row


def counts_lines(rows, perf, workload, idle_what):
    """The markdown of the counts."""
    lines = [f"## Counts ({workload})", "",
             f"Syscalls: {'perf stat, raw_syscalls:sys_enter' if perf else 'n/a (perf tracepoints unavailable)'}; "
             "allocations: the LD_PRELOAD counter (alloc_count.c), the whole process; memory: "
             f"VmRSS in KiB, at start and with {idle_what}.", "",
             "| server | syscalls/req | of which (per request) | allocations/req | VmRSS start "
             "| VmRSS idle | RssAnon idle | KiB per idle connection |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        parts = ", ".join(f"{k[9:]} {v:.2f}" for k, v in row.items()
                          if k.startswith("syscalls_") and k != "syscalls_total" and v >= 0.01)
        lines.append(f"| {row['server']} | {fmt(row.get('syscalls_total'))} | {parts or 'n/a'} "
                     f"| {fmt(row.get('allocs_per_req'))} | {fmt(row['rss_start_kib'])} "
                     f"| {fmt(row['rss_idle_kib'])} | {fmt(row['anon_idle_kib'])} "
                     f"| {fmt(row['kib_per_idle_conn'])} |")
    return lines


TIMING_HEADER = ["| server | req/s | p50 (us) | p99 (us) | server CPU per request (us): schedstat (stat) | errors |",
                 "|---|---|---|---|---|---|"]


def cpu_per_request(before, after, requests):
    """The server's CPU time per request over a run, in us, from both sources."""
    requests = max(requests, 1)
    return {"cpu_s": round(after[0] - before[0], 3),
            "cpu_us_per_req": round((after[0] - before[0]) * 1e6 / requests, 3),
            "sched_us_per_req": round((after[1] - before[1]) / 1e3 / requests, 3)}


def timing_line(name, runs, rate, errors):
    """One server's medians over `runs`; `rate` and `errors` name their keys."""
    rates = [r[rate] for r in runs if r[rate] is not None]
    span = f" ({fmt(min(rates), 0)}-{fmt(max(rates), 0)})" if rates else ""
    return (f"| {name} | {fmt(median(rates), 0)}{span} "
            f"| {fmt(median([r['p50_us'] for r in runs]), 0)} "
            f"| {fmt(median([r['p99_us'] for r in runs]), 0)} "
            f"| {fmt(median([r['sched_us_per_req'] for r in runs]), 2)} "
            f"({fmt(median([r['cpu_us_per_req'] for r in runs]), 1)}) "
            f"| {sum(sum(r[e] for e in errors) for r in runs)} |")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def write_outputs(out_dir, tables, stem, markdown):
    """Writes each `tables` entry (name: rows) as NAME.csv and `markdown` as STEM.md in
    `out_dir`, and prints the markdown."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if not rows:
            continue
        fields = list(dict.fromkeys(key for row in rows for key in row))
        with open(out_dir / f"{name}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    (out_dir / f"{stem}.md").write_text("\n".join(markdown) + "\n")
    print("\n".join(markdown))
    log(f"written: {out_dir / (stem + '.md')} and the CSV files beside it")


def fmt(value, digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"
