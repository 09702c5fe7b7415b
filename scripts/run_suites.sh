#!/usr/bin/env bash
# `make test`'s two runs of the test suite, SQLite and PostgreSQL, at the same time: most of the
# PostgreSQL run is spent waiting for the database server, so on two cores the pair takes little
# more than the longer of the two. Each run writes its own log; each log is printed when its run
# ends (the SQLite one first), and this fails if either run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
sqlite_log=var/test-sqlite.log
postgres_log=var/test-postgres.log
echo "== Test suites on SQLite and PostgreSQL, side by side (logs: $sqlite_log, $postgres_log) =="
make --no-print-directory test-sqlite-only >"$sqlite_log" 2>&1 &
sqlite_pid=$!
make --no-print-directory test-postgres-only >"$postgres_log" 2>&1 &
postgres_pid=$!
wait "$sqlite_pid"; sqlite_status=$?
cat "$sqlite_log"
wait "$postgres_pid"; postgres_status=$?
cat "$postgres_log"
if [ "$sqlite_status" -ne 0 ] || [ "$postgres_status" -ne 0 ]; then
  echo "FAILED: the SQLite run exited with $sqlite_status, the PostgreSQL run with $postgres_status."
  exit 1
fi
