#!/bin/sh
# How the hot path's cost depends on where the locks and the stack lie within a 4 KiB page.
# Address randomisation is turned off (`setarch -R`) and the stack is moved STEP bytes at a
# time by the size of an environment variable, so each layout is the same on every pass;
# each row is one short run of the hotpath bench (3 rounds, main table only, `--layout`).
# A layout that is slow on both passes is a property of the addresses, not noise.
# Usage: lockdep-core/benches/layout-scan.sh [FROM] [TO] [STEP] [PASSES]
# (default 0 4095 16 2: 256 layouts, two passes, about 12 minutes). HOTPATH_BIN=path
# scans an already built bench binary (another commit's, say) instead of building one.
# With QUIET=L (say 0.5), each run first waits for the 1-minute load average to fall below L
# (the scan's own back-to-back runs load the machine); the scan then takes longer.
set -eu
quiet=${QUIET:-}
from=${1:-0}
to=${2:-4095}
step=${3:-16}
passes=${4:-2}
target=${CARGO_TARGET_DIR:-target}
bin=${HOTPATH_BIN:-$(cargo bench -p lockdep-core --bench hotpath --no-run 2>&1 |
    sed -n 's/.*Executable.*(\(.*\)).*/\1/p' | tail -1)}
[ -x "$bin" ] || { echo "layout-scan: no hotpath binary built under $target" >&2; exit 1; }
echo "| pad | pass | our locks (offset in page) | stack | thread pointer | ours 1 lock | ours 4-nest | parking_lot 1 lock | parking_lot 4-nest | load |"
echo "|---|---|---|---|---|---|---|---|---|---|"
pass=1
while [ "$pass" -le "$passes" ]; do
    pad=$from
    while [ "$pad" -le "$to" ]; do
        if [ -n "$quiet" ]; then
            while awk -v q="$quiet" '{ exit !($1 >= q) }' /proc/loadavg; do sleep 2; done
        fi
        load=$(cut -d' ' -f1 /proc/loadavg)
        LOCKDEP_LAYOUT_PAD=$(head -c "$pad" /dev/zero | tr '\0' x) LOCKDEP_BENCH_ROUNDS=3 \
            LOCKDEP_BENCH_MS=8 setarch -R "$bin" --layout --skip-scaling --skip-first-sight \
            --skip-memory 2>&1 | sed 's/\*\*//g' | awk -F'|' -v pad="$pad" -v pass="$pass" -v load="$load" '
                /^layout/ {
                    split($0, x, "[][]"); locks = x[2]
                    if (match($0, /stack [0-9]+/)) stack = substr($0, RSTART + 6, RLENGTH - 6)
                    if (match($0, /pointer [0-9]+/)) tp = substr($0, RSTART + 8, RLENGTH - 8)
                }
                /^\| ours \|/ { split($3, a, "/"); split($4, b, "/"); o1 = a[2]; o4 = b[2] }
                /^\| parking_lot \|/ { split($3, a, "/"); split($4, b, "/"); p1 = a[2]; p4 = b[2] }
                END { printf "| %s | %s | %s | %s | %s |%s|%s|%s|%s| %s |\n", pad, pass, locks, stack, tp, o1, o4, p1, p4, load }'
        pad=$((pad + step))
    done
    pass=$((pass + 1))
done
