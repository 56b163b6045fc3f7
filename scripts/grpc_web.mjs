// The emulator from a browser-side client nobody here wrote: the gRPC-Web
// transport of @connectrpc/connect-node (the same protocol code as
// connect-web's), over HTTP/1.1 and HTTP/2, with the service read at run
// time from a descriptor set that `buf build` made from crates/factify-invites-proto/proto/. Also a CORS
// preflight as a browser sends it (Node's fetch).
//
// Run by scripts/emulator.sh. Usage:
//   FACTIFY_ENDPOINT=http://127.0.0.1:50051 node grpc_web.mjs factify.binpb
// Ends with "N passed, N failed"; exits non-zero when a check fails.

import { readFileSync } from "node:fs";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const endpoint = process.env.FACTIFY_ENDPOINT.replace(/\/$/, "");
const ORG = "org_0000000000000000000000acme";
const headers = { authorization: "Bearer ffy_emulatoradmin000000000000000" };

const registry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(process.argv[2])),
);
const service = registry.getService("factify.api.v1beta.OrganizationInviteService");
const errorDetail = registry.getMessage("factify.api.v1beta.ErrorDetail");

let passed = 0;
let failed = 0;
function check(name, condition, detail = "") {
  if (condition) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} ${detail}`);
  }
}

for (const httpVersion of ["1.1", "2"]) {
  const client = createClient(
    service,
    createGrpcWebTransport({ baseUrl: endpoint, httpVersion }),
  );
  const email = `web-${httpVersion}@example.com`;
  try {
    const created = await client.createOrganizationInvite(
      { organizationId: ORG, email },
      { headers },
    );
    check(`gRPC-Web over HTTP/${httpVersion}: create`, created.invite?.email === email);
  } catch (error) {
    check(`gRPC-Web over HTTP/${httpVersion}: create`, false, String(error));
  }
  try {
    await client.listOrganizationInvites(
      { organizationId: "org_01h2xcejqtf2nbrexx3vqjhp99" },
      { headers },
    );
    check(`gRPC-Web over HTTP/${httpVersion}: unknown organization refused`, false);
  } catch (error) {
    const err = ConnectError.from(error);
    check(
      `gRPC-Web over HTTP/${httpVersion}: NOT_FOUND`,
      err.code === Code.NotFound,
      String(err),
    );
    const details = err.findDetails(errorDetail);
    check(
      `gRPC-Web over HTTP/${httpVersion}: ErrorDetail resource_not_found`,
      details.length === 1 && details[0].reason === "resource_not_found",
      JSON.stringify(details),
    );
  }
}

const preflight = await fetch(
  `${endpoint}/factify.api.v1beta.OrganizationInviteService/CreateOrganizationInvite`,
  {
    method: "OPTIONS",
    headers: {
      origin: "http://localhost:5173",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,x-grpc-web,x-user-agent",
    },
  },
);
check("CORS preflight is answered 200", preflight.status === 200, preflight.status);
check(
  "CORS preflight allows the origin",
  ["*", "http://localhost:5173"].includes(preflight.headers.get("access-control-allow-origin")),
  preflight.headers.get("access-control-allow-origin"),
);
check(
  "CORS preflight allows the gRPC-Web headers",
  /x-grpc-web/.test(preflight.headers.get("access-control-allow-headers") ?? ""),
  preflight.headers.get("access-control-allow-headers"),
);

console.log(`emulator-grpc-web: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
