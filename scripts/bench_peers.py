"""Client CPU per call of this crate's client, Python grpcio and
@connectrpc/connect-node, each a whole process, against the reference
server (`factify-invites serve`). Run by scripts/bench_peers.sh, which
installs the pinned packages, builds the binaries and generates the stubs.

Method (issue 12): a client process lists the first page CALLS times, and
its CPU (user + system, from wait4's rusage, every thread included) is
read when it exits. Each configuration runs with N1 and with N2 calls; the
CPU per call is (cpu(N2) - cpu(N1)) / (N2 - N1), so start-up (interpreter,
imports, JIT warm-up, connecting) cancels out. Each pair is run REPS times,
alternating, and the median is reported. Only the client's CPU is counted:
the server's is its own process.

Prints one markdown table: µs of client CPU per call by page size, callers
(1 sequential, 64 concurrent) and protocol, and each peer's ratio to this
crate's client on the same protocol.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import grpc

from factify.api.v1beta import organization_invite_service_pb2 as service_pb2
from factify.api.v1beta import organization_invite_service_pb2_grpc as service_grpc

ORG = "org_0000000000000000000000acme"
METADATA = (("authorization", "Bearer ffy_emulatoradmin000000000000000"),)

# What each client speaks against the reference server (gRPC and Connect
# on one port, HTTP/1.1 and h2c). grpcio speaks gRPC only; gRPC-Web is
# connect-node's alone (this crate does not speak it, so no ratio).
PROTOCOLS = [
    "grpc",
    "connect-proto-h1",
    "connect-proto-h2",
    "connect-json-h1",
    "connect-json-h2",
    "grpc-web-h1",
    "grpc-web-h2",
]
SPEAKS = {
    "crate": PROTOCOLS[:5],
    "grpcio": ["grpc"],
    "connect-node": PROTOCOLS,
}
# Without `+gzip` every client reads uncompressed responses (grpcio and
# connect-node are told not to ask for gzip, which both do by default);
# these rows, page size 100 only, keep their defaults and turn this crate's
# `gzip_responses` on, for the cost of inflating a page.
GZIP_PROTOCOLS = ["grpc+gzip", "connect-json-h1+gzip"]
CLIENTS = ["crate", "grpcio", "connect-node"]
PAGE_SIZES = [1, 100]
CALLERS = [1, 64]


def start_server(binary):
    banner = tempfile.NamedTemporaryFile("w+", prefix="bench-peers-", delete=False)
    server = subprocess.Popen(
        [binary, "serve", "--addr", "127.0.0.1:0"],
        stdout=banner,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        with open(banner.name) as lines:
            first = lines.readline()
        if first.startswith("listening on ") and first.endswith("\n"):
            os.unlink(banner.name)
            return server, first[len("listening on ") :].strip()
        if server.poll() is not None:
            break
        time.sleep(0.05)
    server.kill()
    sys.exit("bench-peers: the server printed no address")


def seed(target, count):
    """Creates `count` invitations, so that a page of 100 is full."""
    with grpc.insecure_channel(target) as channel:
        stub = service_grpc.OrganizationInviteServiceStub(channel)
        for i in range(count):
            stub.CreateOrganizationInvite(
                service_pb2.CreateOrganizationInviteRequest(
                    organization_id=ORG, email=f"peer-bench-{i}@example.com"
                ),
                metadata=METADATA,
                timeout=10,
            )
        listed = stub.ListOrganizationInvites(
            service_pb2.ListOrganizationInvitesRequest(organization_id=ORG, page_size=100),
            metadata=METADATA,
            timeout=10,
        )
        if len(listed.items) != 100:
            sys.exit(f"bench-peers: {len(listed.items)} invitations listed after seeding")


def speaks(client, protocol):
    return protocol.split("+")[0] in SPEAKS[client]


def protocols_of(page_size, wanted):
    listed = PROTOCOLS + (GZIP_PROTOCOLS if page_size == 100 else [])
    return [protocol for protocol in listed if protocol in wanted]


def command(args, client, endpoint, protocol, page_size, calls, callers):
    if client == "crate":
        return [args.crate, endpoint, protocol, str(page_size), str(calls), str(callers)]
    if client == "grpcio":
        target = urllib.parse.urlparse(endpoint).netloc
        gzip = ["gzip"] if protocol.endswith("+gzip") else []
        return [sys.executable, args.grpcio, target, str(page_size), str(calls), str(callers)] + gzip
    return [
        args.node,
        args.connect_node,
        args.descriptors,
        endpoint,
        protocol,
        str(page_size),
        str(calls),
        str(callers),
    ]


def cpu_of(argv):
    """Runs a client process; returns its CPU seconds (user + system)."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            sys.exit(
                f"bench-peers: {' '.join(argv)} exited {process.returncode}: "
                f"{errors.read().decode(errors='replace').strip()}"
            )
    return usage.ru_utime + usage.ru_stime


def calls_for(args, client, page_size):
    """N1 and N2 for one client and page size."""
    n1, n2 = (args.n_small, args.n_large) if page_size == 1 else (args.n100_small, args.n100_large)
    # The interpreted clients cost more per call: fewer calls give them the
    # same CPU spread between N1 and N2, and keep the run short.
    divisor = {"crate": 1, "grpcio": args.grpcio_divisor, "connect-node": args.node_divisor}[client]
    n1, n2 = n1 // divisor, n2 // divisor
    return n1, n2


def measure(args, client, endpoint, protocol, page_size, callers):
    """Median marginal CPU per call, in µs, over REPS pairs."""
    n1, n2 = calls_for(args, client, page_size)
    samples = []
    for rep in range(args.reps):
        order = [n1, n2] if rep % 2 == 0 else [n2, n1]
        cpu = {n: cpu_of(command(args, client, endpoint, protocol, page_size, n, callers)) for n in order}
        samples.append((cpu[n2] - cpu[n1]) / (n2 - n1) * 1e6)
    return statistics.median(samples), samples, (n1, n2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--crate", required=True)
    parser.add_argument("--grpcio", required=True)
    parser.add_argument("--connect-node", required=True)
    parser.add_argument("--descriptors", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--n-small", type=int, default=2000, help="N1, page size 1")
    parser.add_argument("--n-large", type=int, default=8000, help="N2, page size 1")
    parser.add_argument("--n100-small", type=int, default=500, help="N1, page size 100")
    parser.add_argument("--n100-large", type=int, default=2000, help="N2, page size 100")
    parser.add_argument("--grpcio-divisor", type=int, default=2, help="N divided by this for grpcio")
    parser.add_argument("--node-divisor", type=int, default=2, help="N divided by this for connect-node")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--protocols", default=",".join(PROTOCOLS + GZIP_PROTOCOLS))
    args = parser.parse_args()
    clients = args.clients.split(",")
    protocols = args.protocols.split(",")

    server, endpoint = start_server(args.server)
    try:
        target = urllib.parse.urlparse(endpoint).netloc
        seed(target, 110)
        started = time.monotonic()
        load_before = os.getloadavg()
        results = {}
        for page_size in PAGE_SIZES:
            for callers in CALLERS:
                for protocol in protocols_of(page_size, protocols):
                    for client in clients:
                        if not speaks(client, protocol):
                            continue
                        value, samples, (n1, n2) = measure(
                            args, client, endpoint, protocol, page_size, callers
                        )
                        results[(page_size, callers, protocol, client)] = value
                        print(
                            f"bench-peers: page {page_size}, {callers} callers, {protocol}, {client}: "
                            f"{value:.1f} µs/call (N {n1} and {n2}; pairs "
                            f"{', '.join(f'{s:.1f}' for s in samples)})",
                            file=sys.stderr,
                            flush=True,
                        )
        load_after = os.getloadavg()
        elapsed = time.monotonic() - started
    finally:
        server.kill()
        server.wait()

    def cell(key):
        return f"{results[key]:.1f}" if key in results else "—"

    def ratio(key, crate_key):
        if key in results and crate_key in results:
            return f"{results[key] / results[crate_key]:.2f}"
        return "—"

    print()
    print(
        "| page size | callers | protocol | factify-invites (Rust) µs | grpcio (Python) µs "
        "| connect-node µs | grpcio / crate | connect-node / crate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for page_size in PAGE_SIZES:
        for callers in CALLERS:
            for protocol in protocols_of(page_size, protocols):
                crate = (page_size, callers, protocol, "crate")
                grpcio = (page_size, callers, protocol, "grpcio")
                node = (page_size, callers, protocol, "connect-node")
                if not any(key in results for key in (crate, grpcio, node)):
                    continue
                print(
                    f"| {page_size} | {callers} | {protocol} | {cell(crate)} | {cell(grpcio)} "
                    f"| {cell(node)} | {ratio(grpcio, crate)} | {ratio(node, crate)} |"
                )
    print()
    print(
        f"Client CPU (user + system) per ListOrganizationInvites call, median of "
        f"{args.reps} marginal pairs; measured in {elapsed:.0f} s; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after."
    )


if __name__ == "__main__":
    main()
