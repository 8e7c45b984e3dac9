#!/usr/bin/env bash
# Is a venv installed from a lock consistent? `pip check` (every installed package's
# requirements hold, brightwatch's own from pyproject.toml included, so a dependency added
# to pyproject.toml without `make lock` fails here), except the requirements of the
# packages installed with --no-deps on purpose (requirements/no-deps.txt). Also names the
# installed packages that the lock does not hold (left over from an older lock: harmless,
# gone after `make clean setup`).
# Usage: scripts/pip-check.sh VENV/bin/python requirements/dev.txt|service.txt
set -euo pipefail
cd "$(dirname "$0")/.."
py=$1
lock=$2
names() { sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*\)==.*/\1/p' "$@" | tr 'A-Z_.' 'a-z--' | sort -u; }
exempt=$(names requirements/no-deps.txt)
broken=$("$py" -m pip check 2>&1 | grep -v '^No broken requirements found' || true)
if [[ -n $exempt && -n $broken ]]; then
  broken=$(grep -v -i -E "^($(paste -sd'|' <<<"$exempt")) " <<<"$broken" || true)
fi
if [[ -n $broken ]]; then
  echo "pip check: the installed packages do not fit together (is $lock up to date? make lock):" >&2
  echo "$broken" >&2
  exit 1
fi
extra=$(comm -23 <("$py" -m pip list --format=freeze --exclude-editable 2>/dev/null | names) \
  <(names "$lock" requirements/no-deps.txt))
if [[ -n $extra ]]; then
  echo "note: installed but not in $lock (from an older lock; make clean setup drops them):" \
    $extra >&2
fi
