#!/usr/bin/env bash
# Packs every publishable crate of the workspace and builds what was packed,
# so that a file a package forgets, or metadata it lacks, fails here and not
# for a user of crates.io.
#
# `cargo package` can verify each crate itself, but it builds each one
# alone with its own feature set: four builds of the dependency tree. Here
# the packed sources are unpacked side by side into one temporary
# workspace, with the crates' dependencies on each other patched to those
# unpacked copies (`cargo package` rewrote them to crates.io versions), and
# built once with the repository's Cargo.lock and target directory, with
# every feature, so that a file only a feature compiles must be packed too.
# One build instead of four: the step took 195 s of a cold CI run instead
# of 332 s. What the single build does not see, a crate relying on a
# dependency feature that only a sibling turns on, is covered by .ci/run's
# builds of the client alone (gRPC-only and default features) and of the
# server alone (clippy without features).
#
# Usage: scripts/verify-packages.sh   (exits non-zero on any warning of
# `cargo package` or any error of the build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac

log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$work" "$log"' EXIT

cargo package --workspace --exclude factify-invites-tests --no-verify 2>&1 | tee "$log"
if grep -q '^warning' "$log"; then
    echo "package: cargo package printed warnings" >&2
    exit 1
fi

# The publishable members and their versions, from Cargo's own metadata.
packages=$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
metadata = json.load(sys.stdin)
members = set(metadata["workspace_members"])
for package in metadata["packages"]:
    if package["id"] in members and package.get("publish") != []:
        print(package["name"], package["version"])
')

{
    echo '[workspace]'
    echo 'resolver = "2"'
    echo 'members = ['
    while read -r name version; do echo "    \"$name-$version\","; done <<<"$packages"
    echo ']'
    echo '[patch.crates-io]'
    while read -r name version; do echo "$name = { path = \"$name-$version\" }"; done <<<"$packages"
} >"$work/Cargo.toml"
while read -r name version; do
    crate="$target/package/$name-$version.crate"
    [ -f "$crate" ] || { echo "package: $crate was not written" >&2; exit 1; }
    tar -xzf "$crate" -C "$work"
done <<<"$packages"
cp Cargo.lock "$work/Cargo.lock"

echo "package: building the packed crates together ($(tr '\n' ' ' <<<"$packages"| sed 's/ $//'))"
(cd "$work" && CARGO_TARGET_DIR="$target" cargo build --workspace --all-features 2>&1) | tee "$log"
if grep -q '^warning' "$log"; then
    echo "package: the packed crates build with warnings" >&2
    exit 1
fi
