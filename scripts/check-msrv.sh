#!/usr/bin/env bash
# Checks the minimum supported Rust version (`rust-version` in Cargo.toml)
# with what this machine has: no older toolchain can be installed here, so
# the claim is checked in two parts, each of which fails CI when broken:
#
# 1. Our own code: clippy's `incompatible_msrv` lint (warn by default, made an
#    error by `-D warnings` in .ci/run's clippy step) reads `rust-version` and
#    rejects any standard-library API stabilised after it.
# 2. What users compile: every crate of the normal and build dependency tree
#    (all features) must declare a `rust-version` no newer than ours. A crate
#    that declares none is listed, not failed: it promises nothing.
#
# Language features newer than `rust-version` are not caught by either; the
# README says so. Usage: scripts/check-msrv.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo metadata --format-version 1 --locked >target/msrv-metadata.json
cargo tree --locked --all-features -e normal,build --prefix none -f '{p}' \
    | sed 's/ (.*)$//; s/ (\*)$//' | sort -u >target/msrv-tree.txt

python3 - target/msrv-metadata.json target/msrv-tree.txt <<'PY'
import json, sys

def parse(version):
    return tuple(int(part) for part in version.split(".")) + (0,) * (3 - version.count(".") - 1)

metadata = json.load(open(sys.argv[1]))
used = {tuple(line.split(" ", 1)) for line in open(sys.argv[2]).read().split("\n") if line}
root = next(p for p in metadata["packages"] if p["id"] == metadata["resolve"]["root"])
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
print(f"msrv: rust-version {root['rust_version']}; {len(used) - 1} dependencies checked, "
      f"{len(silent)} declare no rust-version")
if too_new:
    print("msrv: these dependencies need a newer Rust than we promise:")
    print("\n".join("  " + line for line in sorted(too_new)))
    sys.exit(1)
PY
