#!/usr/bin/env bash
# The channel benchmark, three times (RUNS=n to change), then one table of what issue 17
# asks: statio's Channel against crossbeam's ArrayQueue at 1 and 2 producers and the wake
# syscalls per million messages through a running loop, each run with its load average.
# Extra arguments go to the benchmark (e.g. --rounds 21 --messages 20000000).
#
#   benches/scripts/channel.sh            # about 1 to 2 minutes a run on 2 cores
#
# Each run's full output is kept in target/channel-bench/run-N.txt. Run it on a quiet
# machine (load average well below 1): every thread spins, so another process's work on a
# 2-core machine is in every figure; the "disturbed rounds" column counts the rounds in
# which a thread waited for its CPU (another process ran there) more than 1% of a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-3}
dir=target/channel-bench
mkdir -p "$dir"
cargo bench -q -p statio-benches --bench channel --no-run
for i in $(seq 1 "$runs"); do
    echo "run $i of $runs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    cargo bench -q -p statio-benches --bench channel -- "$@" > "$dir/run-$i.txt"
done

# One summary line per section; see print_throughput and wakes_under_load in channel.rs.
field() { grep -o "$1=[0-9.]*" | head -1 | cut -d= -f2; }
echo
sed -n '1,2p' "$dir/run-1.txt"
echo
echo "| run | load average at start | 1 producer: statio / ArrayQueue, medians (per round) | 2 producers | disturbed rounds (1 / 2 producers) | wake syscalls per million messages, median (min..max) |"
echo "|---:|---|---:|---:|---|---:|"
ones=(); twos=()
for i in $(seq 1 "$runs"); do
    f="$dir/run-$i.txt"
    load=$(grep -m1 '^load average:' "$f" | sed 's/load average: //; s/ (1, 5, 15 min) at the start//')
    one=$(grep 'summary: producers=1 ' "$f" | field statio_vs_arrayqueue)
    one_round=$(grep 'summary: producers=1 ' "$f" | field per_round)
    two=$(grep 'summary: producers=2 ' "$f" | field statio_vs_arrayqueue)
    two_round=$(grep 'summary: producers=2 ' "$f" | field per_round)
    disturbed="$(grep 'summary: producers=1 ' "$f" | grep -o 'disturbed=[0-9/]*' | cut -d= -f2) / $(grep 'summary: producers=2 ' "$f" | grep -o 'disturbed=[0-9/]*' | cut -d= -f2)"
    wakes=$(grep 'summary: wakes_per_million' "$f")
    w_med=$(echo "$wakes" | field median)
    w_min=$(echo "$wakes" | field min)
    w_max=$(echo "$wakes" | field max)
    echo "| $i | $load | ${one}x (${one_round}x) | ${two}x (${two_round}x) | $disturbed | $w_med ($w_min..$w_max) |"
    ones+=("$one"); twos+=("$two")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| median of the runs | | $(median "${ones[@]}")x | $(median "${twos[@]}")x | | |"
