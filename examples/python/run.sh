#!/usr/bin/env bash
# The Python example, checked against the local stack after `npm run demo` (CI: .ci/run).
# Needs python3 (3.11+) with venv; pip installs the pinned requirements into .optflow/venv-examples.
# Honours OPTFLOW__TOPICS__PREFIX and OPTFLOW__SINK__OUT like the CLI; KAFKA_BROKERS, SCHEMA_REGISTRY_URL.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${OPTFLOW_EXAMPLES_VENV:-$ROOT/.optflow/venv-examples}"
EXPECT_WINDOWS="${EXPECT_WINDOWS:-1521}"  # the sample day, universe SPY, QQQ, IWM: 3 x (390 + 78 + 26 + 13)
LAKE="${OPTFLOW__SINK__OUT:-data}"
case "$LAKE" in /*) ;; *) LAKE="$ROOT/$LAKE" ;; esac

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
node "$ROOT/bin/optflow.js" features names | diff -q - "$HERE/feature_names.txt" >/dev/null \
  || { echo "examples/python/feature_names.txt differs from 'optflow features names'" >&2; exit 1; }
node "$ROOT/bin/optflow.js" inspect features --limit 100000000 > "$VENV/features.jsonl"
cd "$HERE"
"$VENV/bin/python" check_example.py --inspect "$VENV/features.jsonl" --expect-windows "$EXPECT_WINDOWS" \
  --bootstrap "${KAFKA_BROKERS:-127.0.0.1:19092}" --registry "${SCHEMA_REGISTRY_URL:-http://127.0.0.1:18081}" \
  --topic "${OPTFLOW__TOPICS__PREFIX:-}features" --lake "$LAKE"
