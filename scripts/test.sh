#!/usr/bin/env bash
# Installs what is needed and runs every gate: formatting, lints, Rust tests, UI tests in
# headless Chromium, and the end-to-end run of the real window under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# shellcheck source=scripts/shared-env.sh
. scripts/shared-env.sh

step() {
  local start=$SECONDS
  echo "== $*"
  "$@"
  echo "== ok in $((SECONDS - start)) s: $*"
}

step cargo fmt --all --check
# The release workflow (.github/workflows), checked as GitHub would read it.
step actionlint -color=false
# One build of every target first: the test runs below then select the same targets and
# features, so nothing is compiled twice.
step cargo build --workspace --all-targets --locked
step cargo clippy --workspace --all-targets --locked -- -D warnings
# Licences, bans, sources and RustSec advisories (deny.toml), offline against ../shared's snapshot.
step scripts/deny.sh
step cargo test --workspace --locked
# Clients nobody here wrote, unmodified, each walking a trader's session against the
# simulator binary in its default (wall-clock) time: ccxt, ccxt.pro, and Binance's official
# Python connector and SDK (crates/sim/tests/third_party).
for client in ccxt_client ccxt_pro_client connector_client sdk_client; do
  step python3 "crates/sim/tests/third_party/$client.py" "${CARGO_TARGET_DIR:-target}/debug/perpdesk-sim" "$PERPDESK_SHARED/data"
done
step node --test ui/tests/
# The end-to-end tests drive the real window, so they need a display and a session bus.
# Only perpdesk-e2e's ignored tests run here; long soak runs elsewhere stay opt-in.
step xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  cargo test -p perpdesk-e2e --locked -- --ignored --test-threads=1
echo "== all gates passed in $SECONDS s"
