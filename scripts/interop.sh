#!/usr/bin/env bash
# Interop with a client nobody here wrote: Buf's `buf curl` (installed from
# the npm registry, pinned, into target/interop) calls the reference server
# (`cargo run --example serve`) over gRPC, over Connect on HTTP/1.1 and over
# Connect on HTTP/2 (h2c), with the schema read from
# crates/factify-invites-proto/proto/. For each
# protocol: a creation that must succeed, and a call that must fail with
# NOT_FOUND and its ErrorDetail.
#
# Needs only Node.js/npm and cargo. Usage: scripts/interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BUF_VERSION=1.75.0
TOOLS=target/interop
BUF="$TOOLS/node_modules/.bin/buf"
SERVICE=factify.api.v1beta.OrganizationInviteService

# Exit status 75 (EX_TEMPFAIL) means buf could not be installed (no npm, or
# the registry did not answer): nothing was checked, which CI reports as a
# skip, since tests/connect.rs already checks interop with curl.
if ! command -v npm >/dev/null; then
    echo "interop: npm is needed to install buf" >&2
    exit 75
fi
if [ ! -x "$BUF" ] || [ "$("$BUF" --version 2>/dev/null)" != "$BUF_VERSION" ]; then
    for try in 1 2 3; do
        if npm install --silent --no-audit --no-fund --prefix "$TOOLS" "@bufbuild/buf@$BUF_VERSION"; then
            break
        fi
        [ "$try" = 3 ] && { echo "interop: installing buf failed" >&2; exit 75; }
        sleep 2
    done
fi
echo "interop: buf $("$BUF" --version)"

cargo build --quiet -p factify-invites-tests --example serve
settings=$(mktemp)
"${CARGO_TARGET_DIR:-target}"/debug/examples/serve >"$settings" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$settings"' EXIT
# The port is bound before the settings are printed; wait for all three.
for _ in $(seq 1 100); do
    [ "$(wc -l <"$settings")" -ge 3 ] && break
    sleep 0.1
done
# shellcheck disable=SC1090
set -a && . "$settings" && set +a
: "${FACTIFY_ENDPOINT:?the server printed no endpoint}"

fail() {
    echo "interop FAILED: $*" >&2
    exit 1
}

call() { # protocol-args... -- method body
    local args=()
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    "$BUF" curl --schema crates/factify-invites-proto/proto "${args[@]}" \
        -H "Authorization: Bearer $FACTIFY_API_KEY" \
        -d "$2" "$FACTIFY_ENDPOINT/$SERVICE/$1"
}

n=0
for protocol in "grpc --http2-prior-knowledge" "connect" "connect --http2-prior-knowledge"; do
    n=$((n + 1))
    email="buf-$n@example.com"
    # shellcheck disable=SC2086
    created=$(call --protocol $protocol -- CreateOrganizationInvite \
        "{\"organizationId\":\"$FACTIFY_ORGANIZATION_ID\",\"email\":\"$email\"}") ||
        fail "$protocol: CreateOrganizationInvite failed"
    grep -q "\"email\": \"$email\"" <<<"$created" || fail "$protocol: $created"
    grep -q '"status": "ORGANIZATION_INVITE_STATUS_PENDING"' <<<"$created" || fail "$protocol: $created"

    # shellcheck disable=SC2086
    if refused=$(call --protocol $protocol -- ListOrganizationInvites \
        '{"organizationId":"org_01h2xcejqtf2nbrexx3vqjhp99"}' 2>&1); then
        fail "$protocol: an unknown organization was listed: $refused"
    fi
    grep -q '"code": "not_found"' <<<"$refused" || fail "$protocol: $refused"
    grep -q '"type": "factify.api.v1beta.ErrorDetail"' <<<"$refused" || fail "$protocol: $refused"
    echo "interop: buf curl --protocol $protocol: create ok, NOT_FOUND ok"
done

listed=$(call --protocol connect -- ListOrganizationInvites \
    "{\"organizationId\":\"$FACTIFY_ORGANIZATION_ID\"}")
[ "$(grep -c '"email": "buf-' <<<"$listed")" = 3 ] || fail "expected 3 invitations: $listed"
echo "interop: 3 passed, 0 failed"
