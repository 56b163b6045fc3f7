#!/usr/bin/env bash
# Checks the minimum supported Rust version (`rust-version`, set once in the
# workspace's Cargo.toml) of every publishable crate with what this machine
# has: no older toolchain can be installed here, so the claim is checked in
# two parts, each of which fails CI when broken:
#
# 1. Our own code: clippy's `incompatible_msrv` lint (warn by default, made an
#    error by `-D warnings` in .ci/run's clippy step) reads `rust-version` and
#    rejects any standard-library API stabilised after it.
# 2. What users compile: for each publishable crate, every crate of its
#    normal and build dependency tree (all features) must declare a
#    `rust-version` no newer than the crate's. A dependency that declares
#    none is listed, not failed: it promises nothing.
#
# Language features newer than `rust-version` are not caught by either; the
# README says so. Usage: scripts/check-msrv.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
mkdir -p "$target"
cargo metadata --format-version 1 --locked >"$target/msrv-metadata.json"
crates=$(python3 -c '
import json, sys
metadata = json.load(open(sys.argv[1]))
members = set(metadata["workspace_members"])
for package in metadata["packages"]:
    if package["id"] in members and package.get("publish") != []:
        print(package["name"])
' "$target/msrv-metadata.json")

for crate in $crates; do
    cargo tree --locked -p "$crate" --all-features -e normal,build --prefix none -f '{p}' \
        | sed 's/ (.*)$//; s/ (\*)$//' | sort -u >"$target/msrv-tree-$crate.txt"
    python3 - "$target/msrv-metadata.json" "$target/msrv-tree-$crate.txt" "$crate" <<'PY'
import json, sys

def parse(version):
    return tuple(int(part) for part in version.split(".")) + (0,) * (3 - version.count(".") - 1)

metadata = json.load(open(sys.argv[1]))
used = {tuple(line.split(" ", 1)) for line in open(sys.argv[2]).read().split("\n") if line}
members = set(metadata["workspace_members"])
root = next(p for p in metadata["packages"] if p["name"] == sys.argv[3] and p["id"] in members)
ours = parse(root["rust_version"])
too_new, silent = [], []
for package in metadata["packages"]:
    if (package["name"], "v" + package["version"]) not in used or package is root:
        continue
    declared = package.get("rust_version")
    if declared is None:
        silent.append(f'{package["name"]} {package["version"]}')
    elif parse(declared) > ours:
        too_new.append(f'{package["name"]} {package["version"]} needs Rust {declared}')
print(f"msrv: {root['name']}: rust-version {root['rust_version']}; {len(used) - 1} dependencies "
      f"checked, {len(silent)} declare no rust-version")
if too_new:
    print(f"msrv: these dependencies of {root['name']} need a newer Rust than it promises:")
    print("\n".join("  " + line for line in sorted(too_new)))
    sys.exit(1)
PY
done
