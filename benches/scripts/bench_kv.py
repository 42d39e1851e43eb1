#!/usr/bin/env python3
"""RESP key-value servers side by side under redis-benchmark: throughput, latency, server
CPU, syscalls and allocations per request, and memory with 1,000 idle connections.

    python3 benches/scripts/bench_kv.py                                  # redis-server only
    python3 benches/scripts/bench_kv.py --server kv=target/release/examples/kv
    python3 benches/scripts/bench_kv.py --rounds 5 --requests 500000 --pipeline 1,16

Servers: `redis-server --save '' --appendonly no` (unless --no-redis) and each
`--server NAME=BINARY`: a binary that takes `ADDR` and prints `NAME: listening on
ADDR` first (statio's `examples/kv`); with --floor, `floor` (benches/examples/floor.c:
canned replies, the least a server on epoll does per command).

Two phases, the server pinned to CPU 0 and redis-benchmark to CPU 1:
1. Timing: `redis-benchmark -t TEST -n REQUESTS -c CLIENTS -P P --csv` for each test
   (set, get, incr) and pipeline depth, the servers interleaved (their order rotates
   every round), ROUNDS rounds. Per run: req/s, p50 and p99 (redis-benchmark's), the
   server's CPU time per request over the run, divided by REQUESTS (from
   /proc/PID/task/*/schedstat, and from utime + stime in /proc/PID/stat in brackets),
   and the errors redis-benchmark reported ("Error from server"; it stops at the
   first, and the run then has no req/s).
2. Counts, one server at a time, each on a fresh process: syscalls per request
   (`perf stat -e raw_syscalls:sys_enter`, attached for one `-t set,get,incr -P 1`
   run), allocations per request (the LD_PRELOAD counter alloc_count.c, which sees
   redis-server's jemalloc too, as Debian links it dynamically), and VmRSS/RssAnon at
   start and with 1,000 connections that each sent one PING and stay open.

Writes a markdown summary and CSV files to --out (default target/bench/kv-<time>) and
prints the summary. Needs redis-benchmark (redis-tools), redis-server, taskset, perf
(or the syscall column says n/a), gcc. Never run in CI; timings mean nothing while
other processes load the machine (the load average is printed with the results).
"""

import csv
import io
import shutil
import subprocess

import serverbench as sb


def parse_args():
    p = sb.parser(__doc__, "redis-server")
    p.add_argument("--no-redis", action="store_true", help="measure only the --server ones")
    p.add_argument("--tests", default="set,get,incr")
    p.add_argument("--pipeline", default="1,16")
    p.add_argument("--requests", type=int, default=200_000, help="requests per run (-n)")
    p.add_argument("--clients", type=int, default=50, help="connections (-c)")
    p.add_argument("--count-requests", type=int, default=100_000,
                   help="requests per test in the syscall and allocation runs")
    return p.parse_args()


def start(name, binary, log_path, env=None):
    if binary is None:  # redis-server
        port = sb.free_port()
        argv = ["redis-server", "--save", "", "--appendonly", "no", "--bind", "127.0.0.1",
                "--port", str(port), "--maxclients", "10000"]
        return sb.Server(name, argv, log_path, env=env, listens_by_line=False, port=port)
    return sb.Server(name, [binary, "127.0.0.1:0"], log_path, env=env)


def benchmark(server, tests, requests, clients, pipeline):
    """One redis-benchmark run; {TEST: {rps, p50_us, p99_us}} and the error count."""
    cmd = ["taskset", "-c", sb.CLIENT_CPU, "redis-benchmark", "-h", server.host,
           "-p", str(server.port), "-t", tests, "-n", str(requests), "-c", str(clients),
           "-P", str(pipeline), "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    errors = out.count("Error from server")
    rows = {}
    lines = [line for line in out.splitlines() if line.startswith('"')]
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        rows[row["test"]] = {"rps": float(row["rps"]),
                             "p50_us": float(row["p50_latency_ms"]) * 1e3,
                             "p99_us": float(row["p99_latency_ms"]) * 1e3}
    return rows, errors


def main():
    args = parse_args()
    binaries = {}
    if not args.no_redis:
        if not shutil.which("redis-server"):
            raise SystemExit("redis-server not found (apt-get install redis-server), or --no-redis")
        binaries["redis-server"] = None
    info, out_dir, names = sb.prepare(args, "kv", binaries)
    tests = args.tests.split(",")
    pipelines = [int(p) for p in args.pipeline.split(",")]

    # 1. Timing, interleaved.
    def measure(server, config):
        test, pipeline = config
        before = server.cpu()
        result, errors = benchmark(server, test, args.requests, args.clients, pipeline)
        got = result.get(test.upper()) or {"rps": None, "p50_us": None, "p99_us": None}
        return {"test": test.upper(), "pipeline": pipeline, **got, "errors": errors,
                **sb.cpu_per_request(before, server.cpu(), args.requests)}

    runs, finished_load = sb.interleaved(
        lambda name: start(name, binaries[name], out_dir / f"{name}.log"),
        names, args.rounds, [(t, p) for t in tests for p in pipelines], measure)

    # 2. Counts, one fresh server at a time.
    perf = sb.perf_works()
    alloc_lib = sb.alloc_library(out_dir)
    all_tests = ",".join(tests)

    def load(server):
        benchmark(server, all_tests, args.count_requests, args.clients, 1)
        return args.count_requests * len(tests)

    counts = [
        sb.counts(name,
                  lambda log_path, env, name=name: start(name, binaries[name], log_path, env),
                  load, b"PING\r\n", lambda got: got == b"+PONG\r\n", args.idle, out_dir,
                  perf, alloc_lib)
        for name in names
    ]

    md = ["# Key-value servers under redis-benchmark", ""] + sb.machine_lines(info, finished_load) + [
        f"- redis-benchmark -n {args.requests:,} -c {args.clients}, {args.rounds} rounds, "
        "servers interleaved; medians over rounds (min-max of req/s in brackets)", ""]
    for test in tests:
        for pipeline in pipelines:
            md += [f"## {test.upper()}, -P {pipeline}", ""] + sb.TIMING_HEADER
            for name in names:
                mine = [r for r in runs if r["server"] == name and r["test"] == test.upper()
                        and r["pipeline"] == pipeline]
                md.append(sb.timing_line(name, mine, "rps", ["errors"]))
            md.append("")
    md += sb.counts_lines(counts, perf,
                          f"{all_tests} at -P 1, {args.count_requests:,} requests each",
                          f"{args.idle:,} idle connections that each sent one PING")
    sb.write_outputs(out_dir, {"kv_runs": runs, "kv_counts": counts}, "kv", md)


if __name__ == "__main__":
    main()
