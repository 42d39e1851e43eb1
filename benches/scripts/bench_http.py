#!/usr/bin/env python3
"""HTTP/1.1 servers side by side under wrk: throughput, latency, server CPU, syscalls and
allocations per request, and memory with 1,000 idle keep-alive connections.

    python3 benches/scripts/bench_http.py                 # examples/http (1 and 2 loops), the peers
    python3 benches/scripts/bench_http.py --no-peers --loops-cpus 0,1
    python3 benches/scripts/bench_http.py --rounds 5 --duration 10 --connections 10,100,1000

Servers: statio's `examples/http` with one loop (`statio`) and with `--loops 2`
(`statio_2loops`), built here unless --no-statio; the peers in benches/examples
(http_mio, http_tokio, http_hyper; built here unless --no-peers); and each
`--server NAME=BINARY`: a binary that takes `ADDR` and prints `NAME: listening on ADDR`
first; with --floor, `floor` (benches/examples/floor.c: the least a server on epoll
does per request, to tell what any server can reach on the machine). Every server
answers `GET /` with a small body.

`statio_2loops` is pinned like every server, to CPU 0, unless `--loops-cpus 0,1`: on a
2-core machine, one CPU shows what the second loop costs (two threads, one core), and
both CPUs make the loops compete with wrk for CPU 1; neither shows how two loops scale.

Two phases, both with the server pinned to CPU 0 and the load generator to CPU 1:
1. Timing: `wrk -t1 -cC -dD --latency` against each server at each connection count,
   the servers interleaved (their order rotates every round), ROUNDS rounds. Per run:
   req/s, p50 and p99 latency (wrk's), and the server's CPU time per request over the
   run, divided by wrk's request count: from /proc/PID/task/*/schedstat (ns) and,
   in brackets, from utime + stime in /proc/PID/stat (10 ms ticks). wrk saturates its
   own core on a 2-core machine: rank servers by CPU per request, not req/s alone.
2. Counts, one server at a time, each on a fresh process, at -c100:
   - syscalls per request: `perf stat -e raw_syscalls:sys_enter` (and one tracepoint per
     common syscall) attached for one wrk run; exact counts, a small cost to the
     server. The batching of a loop, and so its count, depends on load: compare
     servers measured in one run;
   - allocations per request: an LD_PRELOAD counter (alloc_count.c, compiled here)
     counts every malloc/calloc/realloc/memalign of the process over one wrk run,
     connection set-up included;
   - memory: VmRSS and RssAnon at start and with 1,000 keep-alive connections that
     each made one request and stay open.

Writes a markdown summary and CSV files (every run, and the counts) to --out (default
target/bench/http-<time>) and prints the summary. Needs wrk, taskset, perf (or the
syscall column says n/a), gcc. Never run in CI; timings mean nothing while other
processes load the machine (the load average is printed with the results).
"""

import re
import subprocess
import time

import serverbench as sb

PEERS = ["http_mio", "http_tokio", "http_hyper"]
HELLO = b"Hello, world!\n"
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"


def parse_args():
    p = sb.parser(__doc__, "the peers")
    p.add_argument("--no-peers", action="store_true", help="leave out the peers")
    p.add_argument("--no-statio", action="store_true", help="leave out examples/http")
    p.add_argument("--loops-cpus", default=None,
                   help="taskset CPU list of statio_2loops (default: the server CPU)")
    p.add_argument("--connections", default="10,100,1000")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    p.add_argument("--count-duration", type=int, default=5,
                   help="seconds of the syscall and allocation runs")
    return p.parse_args()


# Arguments after the address, by server name.
EXTRA_ARGS = {"statio_2loops": ["--loops", "2"]}


def statio_example():
    """Builds examples/http in release: {name: path} for one loop and two."""
    cmd = ["cargo", "build", "--release", "-q", "--example", "http"]
    sb.log("+", " ".join(cmd))
    subprocess.run(cmd, cwd=sb.ROOT, check=True)
    path = str(sb.ROOT / "target" / "release" / "examples" / "http")
    return {"statio": path, "statio_2loops": path}


def to_us(text):
    value, unit = float(re.match(r"[\d.]+", text).group()), re.search(r"[a-z]+$", text).group()
    return value * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def wrk(url, connections, duration):
    cmd = ["taskset", "-c", sb.CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
           "--timeout", "10s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    try:
        return parse_wrk(out)
    except (AttributeError, KeyError, ValueError) as e:
        raise SystemExit(f"could not read wrk's output ({e}):\n{out}") from e


def parse_wrk(out):
    result = {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
              "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "p50_us": to_us(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
              "p99_us": to_us(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
              "errors": 0, "non_2xx": 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        result["errors"] = sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["non_2xx"] = int(m.group(1))
    return result


def url(server):
    return f"http://{server.host}:{server.port}/"


def main():
    args = parse_args()
    binaries = {} if args.no_statio else statio_example()
    binaries.update({} if args.no_peers else sb.cargo_examples(PEERS))
    info, out_dir, names = sb.prepare(args, "http", binaries)
    connections = [int(c) for c in args.connections.split(",")]

    def start(name, log_path, env=None):
        argv = [binaries[name], "127.0.0.1:0"] + EXTRA_ARGS.get(name, [])
        cpus = args.loops_cpus if name == "statio_2loops" else None
        return sb.Server(name, argv, log_path, env=env, cpus=cpus)

    # 1. Timing, interleaved.
    def measure(server, c):
        before = server.cpu()
        result = wrk(url(server), c, args.duration)
        time.sleep(0.5)  # the connections' last packets, before the next server's run
        return {"connections": c, **result,
                **sb.cpu_per_request(before, server.cpu(), result["requests"])}

    runs, finished_load = sb.interleaved(
        lambda name: start(name, out_dir / f"{name}.log"),
        names, args.rounds, connections, measure)

    # 2. Counts, one fresh server at a time.
    perf = sb.perf_works()
    alloc_lib = sb.alloc_library(out_dir)
    counts = [
        sb.counts(name,
                  lambda log_path, env, name=name: start(name, log_path, env),
                  lambda server: wrk(url(server), 100, args.count_duration)["requests"],
                  REQUEST, lambda got: got.endswith(HELLO), args.idle, out_dir, perf, alloc_lib)
        for name in names
    ]

    md = ["# HTTP servers under wrk", ""] + sb.machine_lines(info, finished_load) + [
        f"- wrk -t1, {args.duration} s per run, {args.rounds} rounds, servers interleaved; "
        "medians over rounds (min-max of req/s in brackets); errors: wrk's socket errors "
        "and non-2xx responses", ""]
    for c in connections:
        md += [f"## -c{c}", ""] + sb.TIMING_HEADER
        for name in names:
            mine = [r for r in runs if r["server"] == name and r["connections"] == c]
            md.append(sb.timing_line(name, mine, "req_per_s", ["errors", "non_2xx"]))
        md.append("")
    md += sb.counts_lines(counts, perf, f"one wrk -c100 run of {args.count_duration} s each",
                          f"{args.idle:,} idle keep-alive connections that each made one request")
    sb.write_outputs(out_dir, {"http_runs": runs, "http_counts": counts}, "http", md)


if __name__ == "__main__":
    main()
