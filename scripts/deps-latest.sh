#!/usr/bin/env bash
# The scheduled check: the test suite against the newest releases that pyproject.toml's
# ranges allow (and requirements/caps.txt: the torch cap), ignoring the lock, in a throwaway
# venv. Ends with what broke and every version that differs from requirements/dev.txt, and
# exits as pytest did, so a schedule can alert on it. Nothing in .venv or the lock changes:
# to adopt the new versions, `make lock LOCK_ARGS=--upgrade` (or `-P NAME`) then `make test`.
# Usage: scripts/deps-latest.sh [pytest arguments]   (default: the whole suite)
#        DEPS_LATEST_VENV=DIR to put the venv elsewhere (default: a temporary directory)
#        DEPS_LATEST_REUSE=1 to run other tests in the venv of the previous run
set -uo pipefail
export LC_ALL=C  # one collation for sort and join
cd "$(dirname "$0")/.."
venv=${DEPS_LATEST_VENV:-${TMPDIR:-/tmp}/brightwatch-deps-latest}
py=$venv/bin/python
log=$venv/pytest.log

install() {
  rm -rf "$venv"
  python3 -m venv "$venv" || return 1
  echo "installing the newest allowed releases into $venv"
  "$py" -m pip install -q --upgrade pip setuptools || return 1
  "$py" -m pip install -q --upgrade --upgrade-strategy eager -c requirements/caps.txt \
    -e '.[dev,ultralytics]' || {
    echo "deps-latest: the newest releases cannot be installed together (pip's reason above)" >&2
    return 1
  }
  local no_deps
  no_deps=$(sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*\)==.*/\1/p' requirements/no-deps.txt)
  if [[ -n $no_deps ]]; then
    # shellcheck disable=SC2086  # one word per package
    "$py" -m pip install -q --upgrade --no-deps $no_deps || return 1
  fi
}
if [[ ${DEPS_LATEST_REUSE:-} == 1 && -x $py ]]; then
  echo "reusing $venv (installed $(date -r "$venv/bin/python" '+%F %R'))"
else
  install || exit 2
fi

"$py" -m pytest -p no:cacheprovider -q -rfE "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# key=version lines, names normalised (PEP 503), from a lock or from pip freeze
pins() { sed -n 's/^\([A-Za-z0-9][A-Za-z0-9._-]*\)==\([^ ;]*\).*/\1 \2/p' | awk '{n=tolower($1); gsub(/[._]+/, "-", n); print n, $2}' | sort; }
echo
echo "== deps-latest summary =="
echo "versions that differ from requirements/dev.txt (lock -> newest allowed):"
join -a1 -a2 -e '-' -o 0,1.2,2.2 \
  <(cat requirements/dev.txt requirements/no-deps.txt | pins) \
  <("$py" -m pip list --format=freeze --exclude-editable 2>/dev/null | pins) |
  awk '$2 != $3 {
    n++
    if ($3 == "-") printf "  %-32s %s -> (not installed)\n", $1, $2
    else if ($2 == "-") printf "  %-32s (not in the lock) -> %s\n", $1, $3
    else printf "  %-32s %s -> %s\n", $1, $2, $3
  } END { if (!n) print "  none" }'
case $rc in
  0) echo "tests: all passed on the newest releases" ;;
  5) echo "tests: none collected (pytest exit 5): check the arguments" ;;
  *)
    echo "tests that broke (pytest exit $rc):"
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/  /' || tail -n 20 "$log" | sed 's/^/  /'
    ;;
esac
exit "$rc"
