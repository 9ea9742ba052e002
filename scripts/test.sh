#!/usr/bin/env bash
# Installs what is needed and runs every gate: formatting, lints, Rust tests, UI tests in
# headless Chromium, and the end-to-end run of the real window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The golden fixtures and the recorded candles live beside the repository, in ../shared
# (tests read PERPDESK_SHARED). A checkout elsewhere finds the machine's copy in /work/shared.
if [ -z "${PERPDESK_SHARED:-}" ]; then
  for d in "$PWD/../shared" /work/shared; do
    if [ -d "$d/binance/fixtures" ] && [ -d "$d/data" ]; then export PERPDESK_SHARED="$d"; break; fi
  done
fi
if [ -z "${PERPDESK_SHARED:-}" ]; then
  echo "test: cannot find the shared fixtures and data (../shared or /work/shared); set PERPDESK_SHARED" >&2
  exit 1
fi
echo "test: shared fixtures and data from $PERPDESK_SHARED"

step() {
  local start=$SECONDS
  echo "== $*"
  "$@"
  echo "== ok in $((SECONDS - start)) s: $*"
}

step cargo fmt --all --check
# One build of every target first: the test runs below then select the same targets and
# features, so nothing is compiled twice.
step cargo build --workspace --all-targets --locked
step cargo clippy --workspace --all-targets --locked -- -D warnings
step cargo test --workspace --locked
step python3 crates/sim/tests/third_party/ccxt_client.py "${CARGO_TARGET_DIR:-target}/debug/perpdesk-sim" "$PERPDESK_SHARED/data"
step node --test ui/tests/
step xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  cargo test --workspace --locked -- --ignored --test-threads=1
echo "== all gates passed in $SECONDS s"
