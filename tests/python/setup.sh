#!/usr/bin/env bash
# Makes the pinned Python virtualenvs the tests talk to, once; later runs reuse them.
# A venv is rebuilt only when its requirements file changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
# The reference is CPython 3.11: the pins have wheels for it, and the interop tests expect it.
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "tests/python/setup.sh: the tests need CPython 3.11 as $python (set PYTHON=python3.11)" >&2
  exit 1
fi
make_venv() {
  local dir="$1" requirements="$2"
  local stamp="$dir/.requirements"
  if [ -x "$dir/bin/python" ] && cmp -s "$requirements" "$stamp"; then
    return
  fi
  echo "setting up $dir from $(basename "$requirements")" >&2
  rm -rf "$dir"
  "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}
make_venv "$root/.cache/venv" "$here/requirements.txt"
make_venv "$root/.cache/venv-numpy1" "$here/requirements-numpy1.txt"
