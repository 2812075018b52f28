#!/usr/bin/env bash
# Makes the pinned Python virtualenvs the tests talk to, once; later runs reuse them.
# A venv is rebuilt only when its requirements file changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
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
