#!/usr/bin/env bash
# Shows the disk CI builds on and clears what earlier test runs left behind: the temp
# folders and Postgres databases of test processes that no longer run. When little
# space is left it also empties the build cache (it is only a cache: the next build
# fills it again). A full disk failed a CI run once, part-way through a build.
# Usage: scripts/ci-disk.sh TARGET_DIR
set -euo pipefail
target=${1:?usage: scripts/ci-disk.sh TARGET_DIR}
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# Test folders and databases carry the pid of the test process that made them:
# tollgate_test_<pid>_<n>_<random> and tollgate-<name>-tollgate_test_<pid>_...
gone() { ! kill -0 "$1" 2>/dev/null; }
tmp=${TMPDIR:-/tmp}
for dir in "$tmp"/tollgate_test_* "$tmp"/tollgate-*-tollgate_test_*; do
  [ -d "$dir" ] || continue
  pid=$(basename "$dir" | sed -E 's/.*tollgate_test_([0-9]+)_.*/\1/')
  if gone "$pid"; then rm -rf "$dir"; fi
done
# The browser tests' folders carry no pid: those untouched for two hours are left over.
find "$tmp" -maxdepth 1 -name 'tollgate-e2e-*' -mmin +120 -exec rm -rf {} + 2>/dev/null || true
if command -v psql >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc \
    "select datname from pg_database where datname like 'tollgate\_test\_%'" 2>/dev/null |
    while read -r db; do
      pid=$(echo "$db" | sed -E 's/tollgate_test_([0-9]+)_.*/\1/')
      if gone "$pid"; then
        psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
      fi
    done
fi

mkdir -p "$target"
free_kb=$(df -Pk "$target" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt $((15 * 1024 * 1024)) ]; then
  say "less than 15 GB free: emptying the build cache $target"
  rm -rf "$target"
  mkdir -p "$target"
fi
say "disk: $(df -Ph "$target" | awk 'NR == 2 { print $4 " free of " $2 }'), build cache $(du -sh "$target" 2>/dev/null | cut -f1)"
