# Sourced by scripts/emulator.sh and scripts/bench_peers.sh: the pinned
# clients nobody here wrote (Python grpcio, connect-node, buf), installed
# once under target/ (a venv and an npm prefix) and shared by both scripts.
# The caller defines `skip MESSAGE` (exit 75: nothing was run).

PY_PACKAGES="grpcio==1.85.3 grpcio-tools==1.85.1 grpcio-health-checking==1.85.1 protobuf==7.36.2"
NODE_PACKAGES="@connectrpc/connect@2.3.0 @connectrpc/connect-node@2.3.0 @bufbuild/protobuf@2.17.0 @bufbuild/buf@1.75.0"
PY=target/emulator-py
NODE=target/emulator-node

retry() { # a command that reaches a registry: three tries
    for try in 1 2 3; do
        "$@" && return 0
        [ "$try" = 3 ] && return 1
        sleep 2
    done
}

# Installs what is missing or pinned differently; `skip`s when it cannot.
install_pinned_clients() {
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
}
