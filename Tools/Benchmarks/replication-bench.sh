#!/usr/bin/env bash
# Replication throughput: `policy-ledger replicate` into a local PostgreSQL, against COPY of the
# same rows into a table of the same shape (same columns and indexes) as the baseline.
#
#   bash Tools/Benchmarks/replication-bench.sh [EVENTS] [BINARY]
#
# EVENTS (default 50000) observation events are added to the seed ledger; BINARY defaults to
# .build/release/policy-ledger (build it with `swift build -c release --product policy-ledger`).
# Needs a PostgreSQL server and a role that may create databases: $POLICY_LEDGER_TEST_POSTGRES_URL
# (as .ci/postgres-up makes it). Each run uses a new database `policy_ledger_bench` (dropped first).
set -euo pipefail
cd "$(dirname "$0")/../.."
events=${1:-50000}
binary=${2:-.build/release/policy-ledger}
base=${POLICY_LEDGER_TEST_POSTGRES_URL:?set POLICY_LEDGER_TEST_POSTGRES_URL, e.g. postgresql://policy_ledger:policy-ledger-test@127.0.0.1:5432/policy_ledger_test}
bench_url=${base%/*}/policy_ledger_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

seconds() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

echo "building a ledger: the seed and $events observations"
"$binary" import Fixtures/csti-basic-plan.ndjson --ledger "$work/ledger" > /dev/null
seq 1 "$events" | awk '{ printf "{\"type\":\"indicator.observed\",\"effective\":\"2021\",\"actor\":\"bench\",\"source\":\"benchmark line %d\",\"payload\":{\"indicator\":\"young-faculty\",\"value\":\"%d\",\"unit\":\"人\",\"note\":\"benchmark observation %d\"}}\n", $1, 40000 + $1 % 5000, $1 }' > "$work/observations.ndjson"
"$binary" import "$work/observations.ndjson" --ledger "$work/ledger" > /dev/null
total=$((events + 96))

psql "$base" -qc "DROP DATABASE IF EXISTS policy_ledger_bench WITH (FORCE)" -c "CREATE DATABASE policy_ledger_bench TEMPLATE template0 ENCODING 'UTF8'"
start=$(seconds)
"$binary" verify --ledger "$work/ledger" > /dev/null
verify=$(elapsed "$start" "$(seconds)")
start=$(seconds)
"$binary" replicate --ledger "$work/ledger" --to "$bench_url"
replicate=$(elapsed "$start" "$(seconds)")

# The baseline: the same rows, written by COPY into a table like `events` (columns and indexes).
psql "$bench_url" -qc "\\copy (SELECT * FROM events ORDER BY seq) TO '$work/events.copy'"
psql "$bench_url" -qc "CREATE TABLE events_copy (LIKE events INCLUDING ALL)"
start=$(seconds)
psql "$bench_url" -qc "\\copy events_copy FROM '$work/events.copy'"
copy=$(elapsed "$start" "$(seconds)")
psql "$base" -qc "DROP DATABASE IF EXISTS policy_ledger_bench WITH (FORCE)"

printf '%d events\n' "$total"
printf 'replicate (verify included): %.2f s, %.0f events/s (verify alone %.2f s)\n' "$replicate" "$(echo "$total / $replicate" | bc -l)" "$verify"
printf 'COPY of the same rows:       %.2f s, %.0f rows/s\n' "$copy" "$(echo "$total / $copy" | bc -l)"
