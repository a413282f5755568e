#!/usr/bin/env bash
# Runs the property-based fuzz targets of lockdep-reports (tests/fuzz.rs) for longer than
# `cargo test` does: the report reader (Document::from_json), the trace parser and replay
# (trace::parse / trace::replay), the renderers, merge, and the CLI's load path.
#
#   reports/fuzz.sh                        # 100,000 cases per property (a few minutes, release)
#   PROPTEST_CASES=1000000 reports/fuzz.sh # longer
#   reports/fuzz.sh mangled_traces         # one property (a test-name filter)
#
# A failure prints the minimal input proptest shrank it to; proptest also saves its seed under
# reports/tests/fuzz.proptest-regressions so the next `cargo test` replays it first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-100000}"
echo "fuzz: PROPTEST_CASES=$PROPTEST_CASES"
exec cargo test --release -p lockdep-reports --test fuzz -- --nocapture "$@"
