#!/usr/bin/env bash
# Regenerates ui/fonts/perpdesk-sans-{regular,bold}.woff2: Noto Sans CJK SC (Debian's
# fonts-noto-cjk) cut down to the characters the interface shows from its own strings
# (ui/tests/interface-chars.mjs). Run it after adding or changing an interface string;
# ui/tests/font.test.mjs fails until then. Not part of the test command: the fonts are committed.
# Needs node, python3 with venv, and PyPI for fontTools and brotli (pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
FONTS_DIR="${NOTO_CJK_DIR:-/usr/share/fonts/opentype/noto}"
VENV="${PERPDESK_FONT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/perpdesk/font-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check fonttools==4.69.1 brotli==1.2.1
chars="$(mktemp)"
trap 'rm -f "$chars"' EXIT
node ui/tests/interface-chars.mjs >"$chars"
echo "subset-font: $(($(wc -m <"$chars") - 1)) characters"
"$VENV/bin/python" scripts/subset-font.py "$chars" "$FONTS_DIR" ui/fonts
