#!/usr/bin/env bash
# Installs what is needed, builds perpdesk and opens its window in paper mode (no keys needed).
# With no display (a server, a container) the window opens on a virtual X display and a
# screenshot of it is saved to test-output/app-window.png every few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# Paper mode replays the recorded candles in shared/data.
# shellcheck source=scripts/shared-env.sh
. scripts/shared-env.sh
cargo build --locked -p perpdesk-desktop
app=target/debug/perpdesk

if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$app"
fi

echo "run: no display; starting perpdesk on a virtual display (Ctrl-C to quit)"
mkdir -p test-output
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  "$1" & app=$!
  trap "kill $app 2>/dev/null" INT TERM EXIT
  while kill -0 "$app" 2>/dev/null; do
    sleep 5
    import -window root test-output/app-window.png 2>/dev/null && echo "run: window captured in test-output/app-window.png"
  done
  wait "$app"' run "$app"
