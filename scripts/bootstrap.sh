#!/usr/bin/env bash
# Installs what `make demo` / `make test` need on a fresh machine of this kind, and nothing
# that is already there: uv (from PyPI), the locked Python environment, the locked npm
# packages (anvil, solc) and Debian's redis-server. Safe to run again: each step is skipped
# when its result is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

# 1. uv: `python3 -m uv` works whether or not pip's script dir is on PATH.
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  say "installing uv from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check uv
  UV=(python3 -m uv)
fi

# 2. The locked Python environment in .venv (seconds when nothing changed).
"${UV[@]}" sync --locked --quiet

# 3. npm packages from package-lock.json; reinstalled only when the lock changed.
if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null \
   || [ ! -x node_modules/.bin/anvil ]; then
  say "installing npm packages (anvil, solc)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 4. redis-server from Debian, when no REDIS_URL points at an existing server.
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1 \
   && [ ! -x /usr/bin/redis-server ]; then
  say "installing redis-server (apt-get)"
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
