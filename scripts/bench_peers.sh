#!/usr/bin/env bash
# This crate's client side by side with the clients users would pick
# instead, each a whole process against the reference server
# (`factify-invites serve`, release build): Python grpcio (stubs from
# grpcio-tools) and @connectrpc/connect-node, doing the same
# ListOrganizationInvites loop as
# crates/factify-invites-tests/examples/peer_bench.rs, for page sizes 1
# and 100, sequential and 64 concurrent, over every protocol each client
# speaks. Prints one markdown table of client CPU per call and the ratios
# to this crate's client (method: scripts/bench_peers.py). 27 minutes
# once built on two cores shared with a load average of 6 (BENCHMARKS.md,
# section 7); `--reps 1` halves it. Not part of CI.
#
# Packages are pinned, the same as scripts/emulator.sh's and in the same
# places under target/ (a venv and an npm prefix), so either script reuses
# what the other installed.
#
# Exit status 75 (EX_TEMPFAIL): python3-venv, pip, npm or a registry is
# missing, so nothing was measured.
# Usage: scripts/bench_peers.sh [bench_peers.py options, e.g. --reps 1]
set -euo pipefail
cd "$(dirname "$0")/.."

PY_PACKAGES="grpcio==1.85.3 grpcio-tools==1.85.1 grpcio-health-checking==1.85.1 protobuf==7.36.2"
NODE_PACKAGES="@connectrpc/connect@2.3.0 @connectrpc/connect-node@2.3.0 @bufbuild/protobuf@2.17.0 @bufbuild/buf@1.75.0"
PY=target/emulator-py
NODE=target/emulator-node
TARGET=${CARGO_TARGET_DIR:-target}

skip() {
    echo "bench-peers: $*; nothing was measured" >&2
    exit 75
}

retry() { # a command that reaches a registry: three tries
    for try in 1 2 3; do
        "$@" && return 0
        [ "$try" = 3 ] && return 1
        sleep 2
    done
}

# ---- install (pinned) ----
command -v python3 >/dev/null || skip "python3 is needed"
command -v node >/dev/null || skip "node is needed"
command -v npm >/dev/null || skip "npm is needed"
if [ "$(cat "$PY/.pins" 2>/dev/null)" != "$PY_PACKAGES" ]; then
    rm -rf "$PY"
    python3 -m venv "$PY" || skip "python3 -m venv failed (Debian: apt-get install python3-venv)"
    # shellcheck disable=SC2086
    retry "$PY/bin/pip" install --quiet --disable-pip-version-check $PY_PACKAGES ||
        skip "pip could not install $PY_PACKAGES"
    echo "$PY_PACKAGES" >"$PY/.pins"
fi
if [ "$(cat "$NODE/.pins" 2>/dev/null)" != "$NODE_PACKAGES" ]; then
    rm -rf "$NODE"
    mkdir -p "$NODE"
    # shellcheck disable=SC2086
    retry npm install --silent --no-audit --no-fund --prefix "$NODE" $NODE_PACKAGES ||
        skip "npm could not install $NODE_PACKAGES"
    echo "$NODE_PACKAGES" >"$NODE/.pins"
fi

# ---- stubs, descriptors, binaries ----
mkdir -p "$PY/gen"
PROTO=crates/factify-invites-proto/proto
"$PY/bin/python" -m grpc_tools.protoc -I"$PROTO" --python_out="$PY/gen" --grpc_python_out="$PY/gen" \
    "$PROTO"/factify/api/v1beta/*.proto
"$NODE/node_modules/.bin/buf" build "$PROTO" -o "$NODE/factify.binpb"
# Next to its node_modules, so that its imports resolve.
cp scripts/peer_bench.mjs "$NODE/peer_bench.mjs"
cargo build --release --quiet -p factify-invites-cli --bin factify-invites
cargo build --release --quiet -p factify-invites-tests --example peer_bench

echo "bench-peers: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench-peers: $(rustc --version), $("$PY/bin/python" --version), grpcio $("$PY/bin/python" -c 'import grpc; print(grpc.__version__)'), protobuf $("$PY/bin/python" -c 'from google.protobuf import __version__ as v; from google.protobuf.internal import api_implementation as a; print(v, "(" + a.Type() + ")")'), node $(node --version), @connectrpc/connect-node 2.3.0, @bufbuild/protobuf 2.17.0"

PYTHONPATH="$PY/gen" "$PY/bin/python" scripts/bench_peers.py \
    --server "$TARGET/release/factify-invites" \
    --crate "$TARGET/release/examples/peer_bench" \
    --grpcio scripts/peer_bench_grpcio.py \
    --connect-node "$NODE/peer_bench.mjs" \
    --descriptors "$NODE/factify.binpb" \
    "$@"
