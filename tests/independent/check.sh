#!/usr/bin/env bash
# Replays every NAME.jsonl in this folder with `lockdep-report replay FILE --json` and compares
# the reports (kind + sorted, de-duplicated class names) against NAME.expect
# (one `KIND C1,C2` line per report, or `none`; lines starting with '#' are commentary).
# Comparison is as a multiset, order-insensitive. Exit code must be 0 for `none`, 1 otherwise.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${LOCKDEP_REPORT:-$ROOT/target/debug/lockdep-report}"
if [ ! -x "$BIN" ]; then
  (cd "$ROOT" && cargo build -q -p lockdep-reports) || { echo "build failed" >&2; exit 2; }
fi
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
for t in "$HERE"/*.jsonl; do
  n="$(basename "$t" .jsonl)"
  "$BIN" replay "$t" --json >"$TMP/$n.out" 2>"$TMP/$n.err"
  echo $? >"$TMP/$n.rc"
done
python3 - "$HERE" "$TMP" <<'PY'
import json, os, sys
here, tmp = sys.argv[1], sys.argv[2]
fails = 0; rows = []
for f in sorted(os.listdir(here)):
    if not f.endswith(".jsonl"): continue
    n = f[:-6]
    exp = [l.strip() for l in open(os.path.join(here, n + ".expect")) if l.strip() and not l.startswith("#")]
    exp = sorted(l for l in exp if l != "none")
    rc = int(open(os.path.join(tmp, n + ".rc")).read().strip())
    out = open(os.path.join(tmp, n + ".out")).read()
    try:
        doc = json.loads(out)
        got = sorted("%s %s" % (r.get("kind"), ",".join(sorted(set(r.get("classes") or []))))
                     for r in doc.get("reports", []))
    except Exception as e:
        got = ["<unparseable output rc=%d: %s>" % (rc, open(os.path.join(tmp, n + ".err")).read().strip()[:200])]
    want_rc = 1 if exp else 0
    ok = got == exp and rc == want_rc
    fails += not ok
    rows.append((n, "ok" if ok else "MISMATCH", "; ".join(exp) or "none",
                 ("; ".join(got) or "none") + ("" if rc == want_rc else " (exit %d)" % rc)))
w = max(len(r[0]) for r in rows)
print("%-*s  %-8s  %-45s  %s" % (w, "trace", "result", "expected", "got"))
for r in rows:
    print("%-*s  %-8s  %-45s  %s" % (w, r[0], r[1], r[2], r[3]))
print("\n%d traces, %d mismatches" % (len(rows), fails))
sys.exit(1 if fails else 0)
PY
