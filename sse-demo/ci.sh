#!/usr/bin/env bash
# Everything CI needs for sse-demo (issue 6), idempotently: Chromium and the Python peers
# installed when missing, then every sse-demo test in one release build (the load test's
# figures are release figures): the client/server reconnect tests, the headless Chromium
# test, the aiohttp-sse and sse-starlette tests and the 1,000-stream load test. Everything
# binds 127.0.0.1 only and stops by itself.
#
#   bash sse-demo/ci.sh                # from anywhere
#   bash sse-demo/ci.sh --setup-only   # only install Chromium and the Python peers
#
# SSE_DEMO_VENV overrides where the venv lives (default ~/.cache/sse-demo/venv, outside the
# clone so later runs on the same machine reuse it).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Installed here, so a missing peer is a failure, not a skip.
export CI="${CI:-true}"
step() { printf '\n==== sse-demo: %s\n' "$*"; }
started=$(date +%s)

step "chromium"
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
chromium --version

step "python peers (aiohttp-sse, sse-starlette; aiohttp-sse-client, sseclient-py)"
venv="${SSE_DEMO_VENV:-${HOME:-/root}/.cache/sse-demo/venv}"
requirements=sse-demo/peers/requirements.txt
stamp="$venv/.sse-demo-requirements.txt"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi
export SSE_DEMO_PYTHON="$venv/bin/python"
"$SSE_DEMO_PYTHON" -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("aiohttp", "aiohttp-sse", "sse-starlette", "starlette", "uvicorn", "aiohttp-sse-client", "sseclient-py")))'

if [ "${1:-}" = "--setup-only" ]; then
  step "peers installed (setup only) in $(( $(date +%s) - started ))s"
  exit 0
fi

step "tests: reconnect, browser, Python peers (release)"
cargo test -p sse-demo --release -- --skip thousand_streams

step "load: 1,000 streams (release)"
cargo test -p sse-demo --release --test load -- --nocapture

step "sse-demo done in $(( $(date +%s) - started ))s"
