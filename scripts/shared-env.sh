# Sourced by run.sh and test.sh: finds the recorded candles and the golden fixtures, which
# live beside the repository in ../shared (tests and paper mode read PERPDESK_SHARED). A
# checkout elsewhere finds the machine's copy in /work/shared.
if [ -z "${PERPDESK_SHARED:-}" ]; then
  for d in "$PWD/../shared" /work/shared; do
    if [ -d "$d/binance/fixtures" ] && [ -d "$d/data" ]; then export PERPDESK_SHARED="$d"; break; fi
  done
fi
if [ -z "${PERPDESK_SHARED:-}" ]; then
  echo "cannot find the shared fixtures and data (../shared or /work/shared); set PERPDESK_SHARED" >&2
  exit 1
fi
echo "shared fixtures and data from $PERPDESK_SHARED"
# LightGBM (perpdesk-signal) builds with CMake >= 3.28: point the cmake crate at the pinned wheel setup.sh installed.
if [ -z "${CMAKE:-}" ] && cm=$(python3 -c 'import cmake, os; print(os.path.join(cmake.CMAKE_BIN_DIR, "cmake"))' 2>/dev/null); then export CMAKE="$cm"; fi
