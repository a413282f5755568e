#!/bin/sh
# mm torture ops/s with validation on against the same program with lockdep compiled out
# (`--features lockdep-core/off`), run alternately in one go, with the load average of each
# run. Usage: lockdep-core/benches/mm-torture.sh [PAIRS] [SECONDS] (default 2 pairs of 5 s).
set -eu
pairs=${1:-2}
secs=${2:-5}
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p instrumented-mm
cp "$target/release/instrumented-mm" "$target/release/mm-torture-on"
cargo build -q --release -p instrumented-mm --features lockdep-core/off
cp "$target/release/instrumented-mm" "$target/release/mm-torture-off"
echo "| run | variant | ops/s | load average before (1/5/15 min) |"
echo "|---|---|---|---|"
i=1
while [ "$i" -le "$pairs" ]; do
    for v in on off; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        ops=$("$target/release/mm-torture-$v" torture --threads 2 --seconds "$secs" --quiet 2>/dev/null |
            sed -n 's/^operations ([^,]*, \([0-9]*\) ops\/s.*/\1/p')
        echo "| $i | $v | $ops | $load |"
    done
    i=$((i + 1))
done
