"""Python grpcio as a whole client process, for scripts/bench_peers.sh: the
same loop as examples/peer_bench.rs, through stubs that grpcio-tools
generates from proto/.

    python peer_bench_grpcio.py HOST:PORT PAGE_SIZE CALLS CONCURRENCY [gzip]

grpcio advertises `grpc-accept-encoding: identity, deflate, gzip` by default,
and the reference server then compresses its responses; `gzip` keeps that
default. Without it the channel enables only identity, so the responses are
the same bytes every client of the table reads.

CONCURRENCY 1 is a plain loop on the synchronous stub, as a script would
call it; more runs that many tasks on one grpc.aio channel (asyncio), the
way grpcio serves concurrent callers without a thread each. Every page must
be full. Prints nothing but errors: the caller reads the process's CPU.
"""

import asyncio
import sys

import grpc

from factify.api.v1beta import organization_invite_service_pb2 as service_pb2
from factify.api.v1beta import organization_invite_service_pb2_grpc as service_grpc

ORG = "org_0000000000000000000000acme"
METADATA = (("authorization", "Bearer ffy_emulatoradmin000000000000000"),)


def check(response, page_size):
    if len(response.items) != page_size:
        sys.exit(f"a page of {len(response.items)} items, {page_size} expected")


# grpc-core's channel argument for the compression algorithms it accepts
# (a bitset; 1 is identity alone).
IDENTITY_ONLY = (("grpc.compression_enabled_algorithms_bitset", 1),)


def sequential(target, options, page_size, calls):
    with grpc.insecure_channel(target, options=options) as channel:
        stub = service_grpc.OrganizationInviteServiceStub(channel)
        request = service_pb2.ListOrganizationInvitesRequest(
            organization_id=ORG, page_size=page_size
        )
        for _ in range(calls):
            check(stub.ListOrganizationInvites(request, metadata=METADATA, timeout=30), page_size)


async def concurrent(target, options, page_size, calls, concurrency):
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        stub = service_grpc.OrganizationInviteServiceStub(channel)
        request = service_pb2.ListOrganizationInvitesRequest(
            organization_id=ORG, page_size=page_size
        )

        async def worker(share):
            for _ in range(share):
                response = await stub.ListOrganizationInvites(
                    request, metadata=METADATA, timeout=30
                )
                check(response, page_size)

        # Split as evenly as it goes, so the total is exactly `calls`.
        await asyncio.gather(
            *(
                worker(calls // concurrency + (task < calls % concurrency))
                for task in range(concurrency)
            )
        )


def main():
    target, page_size, calls, concurrency = sys.argv[1:5]
    page_size, calls, concurrency = int(page_size), int(calls), int(concurrency)
    options = () if sys.argv[5:] == ["gzip"] else IDENTITY_ONLY
    if concurrency == 1:
        sequential(target, options, page_size, calls)
    else:
        asyncio.run(concurrent(target, options, page_size, calls, concurrency))


if __name__ == "__main__":
    main()
