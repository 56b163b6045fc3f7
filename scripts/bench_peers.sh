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

TARGET=${CARGO_TARGET_DIR:-target}

skip() {
    echo "bench-peers: $*; nothing was measured" >&2
    exit 75
}
# shellcheck source=scripts/lib/pinned_clients.sh
. scripts/lib/pinned_clients.sh

# ---- install (pinned) ----
install_pinned_clients

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
