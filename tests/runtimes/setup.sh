#!/usr/bin/env bash
# Installs the runtimes the runtime tests drive, once; later runs reuse them:
# - workerd (Cloudflare's Workers runtime) and esbuild (the bundler a Workers user would use),
#   pinned, from npm into .cache/runtimes/ (not the project's dependencies);
# - Debian's chromium for the browser test, with apt-get, when it is missing and we are root.
#   Without root it only warns: tests/browser_test.ts then fails in CI and skips elsewhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
prefix="$root/.cache/runtimes"
packages=(workerd@1.20261117.1 esbuild@0.28.2)

stamp="$prefix/.packages"
if [ ! -x "$prefix/node_modules/.bin/workerd" ] || [ ! -x "$prefix/node_modules/.bin/esbuild" ] ||
  [ "$(cat "$stamp" 2>/dev/null)" != "${packages[*]}" ]; then
  echo "runtimes: installing ${packages[*]} into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "${packages[@]}" >&2
  echo "${packages[*]}" >"$stamp"
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "runtimes: installing Debian's chromium (apt-get; this takes a while)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 ||
      echo "runtimes: apt-get install chromium failed; tests/browser_test.ts will fail in CI" >&2
  else
    echo "runtimes: chromium is missing and we are not root; tests/browser_test.ts will fail in CI" >&2
  fi
fi
