#!/usr/bin/env bash
# Runs the test suite RUNS times (default 20) while a CPU hog keeps every core busy, and
# reports pass/fail per run with the names of the failing tests (issue 14, item 9: a test
# that depends on timing fails here, not on a landing).
#
#   scripts/loaded-tests.sh [RUNS] [-- CARGO_TEST_ARGS...]
#
# CARGO_TEST_ARGS default to `--workspace`; e.g. `scripts/loaded-tests.sh 1 -- --test udp`.
# The hog is `stress-ng --cpu (2 x nproc)` when stress-ng is installed, else one shell busy
# loop per hog. The tests are built before the hog starts (a build under load only takes
# longer), so each run measures the tests, not the compiler. Each run is capped at
# RUN_TIMEOUT seconds (default 3600; a run took 5.5 min under the hog alone, over 30 min
# beside other builds): a hang is reported as a failure, not waited out.
# Logs: target/loaded-tests/run-N.log. Exit status: 0 when every run passed.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=20
if [ $# -gt 0 ] && [ "$1" != "--" ]; then runs=$1; shift; fi
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--workspace)
run_timeout=${RUN_TIMEOUT:-3600}
hogs=$(( $(nproc) * 2 ))
logs=target/loaded-tests
mkdir -p "$logs"

echo "building: cargo test --no-run ${args[*]}"
cargo test --no-run "${args[@]}" > "$logs/build.log" 2>&1 \
  || { echo "build failed:"; tail -30 "$logs/build.log"; exit 1; }

hog_pids=()
stop_hogs() {
  [ ${#hog_pids[@]} -gt 0 ] && kill "${hog_pids[@]}" 2>/dev/null
  wait 2>/dev/null
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM
if command -v stress-ng > /dev/null; then
  stress-ng --cpu "$hogs" --timeout 0 --quiet &
  hog_pids+=($!)
  hog="stress-ng --cpu $hogs"
else
  for _ in $(seq 1 "$hogs"); do
    ( while :; do :; done ) &
    hog_pids+=($!)
  done
  hog="$hogs shell busy loops"
fi
echo "load: $hog on $(nproc) cores; $runs runs of: cargo test ${args[*]} --no-fail-fast"

passed=0
declare -A failures=()
for run in $(seq 1 "$runs"); do
  log=$logs/run-$run.log
  start=$SECONDS
  timeout --signal=KILL "$run_timeout" cargo test "${args[@]}" --no-fail-fast > "$log" 2>&1
  status=$?
  # libtest's and tests/system.rs's line for a failed test: "test NAME ... FAILED".
  failed=$(sed -n 's/^test \(.*\) \.\.\. FAILED$/\1/p' "$log" | sort -u)
  # A test binary killed by a signal (a watchdog's abort) names no test: name the binary.
  crashed=$(sed -n "s/.*process didn't exit successfully: \`\([^ \`]*\).*(signal: \([^)]*\)).*/\1 killed (signal \2)/p" "$log" \
    | sed 's|^.*/||; s/-[0-9a-f]\{16\} / /')
  [ -n "$crashed" ] && failed="${failed:+$failed$'\n'}$crashed"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "run $run: pass ($((SECONDS - start)) s, load $load)"
  else
    [ "$status" -eq 137 ] && failed="${failed:+$failed$'\n'}(killed after ${run_timeout} s: a hang)"
    [ -z "$failed" ] && failed="(no failing test named: exit $status)"
    echo "run $run: FAIL ($((SECONDS - start)) s, load $load; $log): $(echo $failed)"
    while IFS= read -r name; do
      failures[$name]=$(( ${failures[$name]:-0} + 1 ))
    done <<< "$failed"
  fi
done

echo "passed $passed of $runs runs under $hog"
for name in "${!failures[@]}"; do echo "  failed ${failures[$name]}x: $name"; done
[ "$passed" -eq "$runs" ]
