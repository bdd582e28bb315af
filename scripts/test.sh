#!/usr/bin/env bash
# The whole test suite (`npm test`). Test files run two at a time: each makes its own databases,
# folders and ports, and most of a test's time is spent waiting on sockets and timers. Files named
# *.alone.test.ts then run one by one with nothing beside them: they restart PostgreSQL, which
# would break every other test's connections. Arguments go to `node --test` (a reporter, a name
# pattern); TEST_CONCURRENCY sets how many files run at once.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t shared < <(find test -name '*.test.ts' ! -name '*.alone.test.ts' | sort)
mapfile -t alone < <(find test -name '*.alone.test.ts' | sort)
status=0
node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" "$@" "${shared[@]}" || status=$?
if ((${#alone[@]} > 0)); then
  node --import tsx --test --test-concurrency=1 "$@" "${alone[@]}" || status=$?
fi
exit "$status"
