#!/usr/bin/env bash
# Checks the dependency graph with cargo-deny (deny.toml: licences, bans, sources, advisories)
# without touching the network for advisories: they come from the RustSec snapshot beside the
# repository (../shared/advisory-db, described in ../shared/advisory-db.README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# shellcheck source=scripts/shared-env.sh
. scripts/shared-env.sh >/dev/null

snapshot=""
for d in "$PERPDESK_SHARED/advisory-db" "$PERPDESK_SHARED/../advisory-db" /work/shared/advisory-db; do
  if [ -d "$d/crates" ]; then snapshot="$d"; break; fi
done
if [ -z "$snapshot" ]; then
  echo "deny: no RustSec snapshot (advisory-db/) beside the shared fixtures or in /work/shared" >&2
  exit 1
fi

# cargo-deny reads an advisory database only as a git checkout, in the folder it derives from
# the database URL: for the default RustSec URL and cargo-deny 0.20.2 (pinned in setup.sh)
# that is advisory-db-3157b0e258782691. The snapshot is read-only and not a repository, so a
# committed copy goes to a temporary folder, dated like the snapshot (the README says when).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/advisory-db-3157b0e258782691"
cp -R "$snapshot" "$db"
chmod -R u+w "$db"
readme="$(dirname "$snapshot")/advisory-db.README.md"
dated=$(sed -n 's/.*`, \([0-9]\{4\}-[0-9]\{2\}-[0-9]\{2\}\);.*/\1/p' "$readme" 2>/dev/null | head -n 1)
stamp="${dated:-$(date -u +%F)}T00:00:00Z"
git -C "$db" init -q
git -C "$db" add -A
GIT_AUTHOR_DATE="$stamp" GIT_COMMITTER_DATE="$stamp" \
  git -C "$db" -c user.name=perpdesk -c user.email=perpdesk@localhost -c commit.gpgsign=false \
  commit -q -m "RustSec advisory-db snapshot from $snapshot"

# cargo-deny reads the metadata of every target's dependencies (the app ships for Linux,
# Windows and macOS), which `cargo build` alone does not download; fetching is a no-op once
# they are cached. After that nothing is fetched: --offline also stops advisory updates.
cargo fetch --locked --quiet
PERPDESK_ADVISORY_DBS="$work" cargo deny --offline --locked check
