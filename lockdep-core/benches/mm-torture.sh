#!/bin/sh
# mm torture throughput with validation on against the same program with lockdep compiled
# out (`--features lockdep-core/off`), run alternately in one go, with the load average of
# each run. Fixed work (`--ops`: each of the 2 workers makes OPS attempts, seed 7), so both
# builds are timed on the same operations; a timed run (`--seconds`) varies too much from
# run to run to compare builds. Usage: lockdep-core/benches/mm-torture.sh [PAIRS] [OPS]
# (default 3 pairs of 1,000,000 attempts per worker). With QUIET=L (say 0.5), each run
# first waits (up to 5 minutes) for the 1-minute load average to fall below L: the runs
# themselves load the machine, and figures are published only from a quiet one.
set -eu
quiet=${QUIET:-}
wait_quiet() {
    [ -n "$quiet" ] || return 0
    waited=0
    while [ "$waited" -lt 300 ] &&
        awk -v q="$quiet" '{ exit !($1 >= q) }' /proc/loadavg; do
        sleep 5
        waited=$((waited + 5))
    done
}
pairs=${1:-3}
ops=${2:-1000000}
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p instrumented-mm
cp "$target/release/instrumented-mm" "$target/release/mm-torture-on"
cargo build -q --release -p instrumented-mm --features lockdep-core/off
cp "$target/release/instrumented-mm" "$target/release/mm-torture-off"
echo "| run | variant | seconds | ops/s | load average before (1/5/15 min) |"
echo "|---|---|---|---|---|"
i=1
while [ "$i" -le "$pairs" ]; do
    for v in on off; do
        wait_quiet
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        line=$("$target/release/mm-torture-$v" torture --threads 2 --ops "$ops" --seed 7 --quiet 2>/dev/null |
            sed -n 's/^operations (\([^,]*\)s, \([0-9]*\) ops\/s.*/\1 | \2/p')
        echo "| $i | $v | $line | $load |"
    done
    i=$((i + 1))
done
