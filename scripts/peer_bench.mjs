// @connectrpc/connect-node as a whole client process, for
// scripts/bench_peers.sh: the same loop as examples/peer_bench.rs.
//
//   node peer_bench.mjs factify.binpb ENDPOINT PROTOCOL PAGE_SIZE CALLS CONCURRENCY
//
// PROTOCOL: grpc, connect-proto-h1, connect-proto-h2, connect-json-h1,
// connect-json-h2, grpc-web-h1 or grpc-web-h2, with `+gzip` to keep
// connect-node's default of asking for compressed responses (gzip and br;
// the reference server answers gzip); without it, `acceptCompression: []`,
// so the responses are the same bytes every client of the table reads. The service comes from a
// descriptor set that `buf build` made from proto/ (protobuf-es 2's
// generated code is such a descriptor too, with the same reflection-based
// codec behind it). CONCURRENCY async loops share one client (one
// transport); every page must be full. Prints nothing but errors: the
// caller reads the process's CPU.

import { readFileSync } from "node:fs";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const [descriptors, endpoint, protocol, pageSizeArg, callsArg, concurrencyArg] =
  process.argv.slice(2);
const pageSize = Number(pageSizeArg);
const calls = Number(callsArg);
const concurrency = Number(concurrencyArg);
const ORG = "org_0000000000000000000000acme";
const headers = { authorization: "Bearer ffy_emulatoradmin000000000000000" };

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(descriptors)),
);
const service = registry.getService("factify.api.v1beta.OrganizationInviteService");

const baseUrl = endpoint.replace(/\/$/, "");
const [wire, gzip] = protocol.split("+");
const common = gzip === "gzip" ? { baseUrl } : { baseUrl, acceptCompression: [] };
const transports = {
  grpc: () => createGrpcTransport({ ...common }),
  "connect-proto-h1": () =>
    createConnectTransport({ ...common, httpVersion: "1.1", useBinaryFormat: true }),
  "connect-proto-h2": () =>
    createConnectTransport({ ...common, httpVersion: "2", useBinaryFormat: true }),
  "connect-json-h1": () =>
    createConnectTransport({ ...common, httpVersion: "1.1", useBinaryFormat: false }),
  "connect-json-h2": () =>
    createConnectTransport({ ...common, httpVersion: "2", useBinaryFormat: false }),
  "grpc-web-h1": () => createGrpcWebTransport({ ...common, httpVersion: "1.1" }),
  "grpc-web-h2": () => createGrpcWebTransport({ ...common, httpVersion: "2" }),
};
if (!(wire in transports) || (gzip !== undefined && gzip !== "gzip")) {
  console.error(`unknown protocol ${protocol}`);
  process.exit(2);
}
const client = createClient(service, transports[wire]());

async function worker(share) {
  for (let i = 0; i < share; i++) {
    const page = await client.listOrganizationInvites(
      { organizationId: ORG, pageSize },
      { headers, timeoutMs: 30_000 },
    );
    if (page.items.length !== pageSize) {
      throw new Error(`a page of ${page.items.length} items, ${pageSize} expected`);
    }
  }
}

// Split as evenly as it goes, so the total is exactly `calls`.
const workers = [];
for (let task = 0; task < concurrency; task++) {
  workers.push(worker(Math.floor(calls / concurrency) + (task < calls % concurrency ? 1 : 0)));
}
try {
  await Promise.all(workers);
} catch (error) {
  console.error(String(error));
  process.exit(1);
}
// HTTP/2 sessions and keep-alive sockets would hold the event loop open.
process.exit(0);
