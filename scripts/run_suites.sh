#!/usr/bin/env bash
# `make test`'s three runs: the test suite on SQLite, the test suite on PostgreSQL, and the browser
# tests, on two cores. Most of the PostgreSQL run is spent waiting for the database server, so it
# runs beside the SQLite run and then beside the browser tests, which start when the SQLite run
# ends (they use SQLite too): the three take little more than the PostgreSQL run alone. Each run
# writes its own log; each log is printed when its run ends (SQLite, then the browser tests, then
# PostgreSQL), and this fails if any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
sqlite_log=var/test-sqlite.log
e2e_log=var/test-e2e.log
postgres_log=var/test-postgres.log
echo "== Test suites on SQLite and PostgreSQL side by side, then the browser tests beside PostgreSQL (logs: $sqlite_log, $postgres_log, $e2e_log) =="
make --no-print-directory test-postgres-only >"$postgres_log" 2>&1 &
postgres_pid=$!
make --no-print-directory test-sqlite-only >"$sqlite_log" 2>&1
sqlite_status=$?
cat "$sqlite_log"
make --no-print-directory e2e-only >"$e2e_log" 2>&1
e2e_status=$?
cat "$e2e_log"
wait "$postgres_pid"; postgres_status=$?
cat "$postgres_log"
if [ "$sqlite_status" -ne 0 ] || [ "$postgres_status" -ne 0 ] || [ "$e2e_status" -ne 0 ]; then
  echo "FAILED: the SQLite run exited with $sqlite_status, the PostgreSQL run with $postgres_status, the browser tests with $e2e_status."
  exit 1
fi
