"""A whole invitation lifecycle against `factify-invites serve`, from Python,
with only the emulator's documented surfaces: the gRPC API (stubs that
grpcio-tools generates from crates/factify-invites-proto/proto/), the admin surface over plain HTTP
(urllib), and the standard gRPC health service (grpcio-health-checking).

Run by scripts/emulator.sh, which installs the pinned packages, generates the
stubs and starts the emulator. Usage:

    FACTIFY_ENDPOINT=http://127.0.0.1:50051 python emulator_lifecycle.py

Prints one line per check and ends with "N passed, N failed"; exits non-zero
when a check fails.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from factify.api.v1beta import organization_invite_pb2 as invite_pb2
from factify.api.v1beta import organization_invite_service_pb2 as service_pb2
from factify.api.v1beta import organization_invite_service_pb2_grpc as service_grpc

# The default seed of `serve` (README: "The emulator").
ORG = "org_0000000000000000000000acme"
ADMIN_KEY = "ffy_emulatoradmin000000000000000"
GRACE_KEY = "ffy_emulatorgrace000000000000000"
SERVICE = "factify.api.v1beta.OrganizationInviteService"
DAY = 24 * 3600

ENDPOINT = os.environ["FACTIFY_ENDPOINT"].rstrip("/")
TARGET = urllib.parse.urlparse(ENDPOINT).netloc

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def admin(method, path, body=None):
    """Calls the admin surface; returns the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        ENDPOINT + path,
        data=data,
        method=method,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def outbox(to):
    query = urllib.parse.urlencode({"to": to})
    return admin("GET", f"/admin/v1/emails?{query}")["emails"]


def auth(key):
    return (("authorization", f"Bearer {key}"),)


def status_of(stub, invite_id):
    listed = stub.ListOrganizationInvites(
        service_pb2.ListOrganizationInvitesRequest(organization_id=ORG, page_size=100),
        metadata=auth(ADMIN_KEY),
        timeout=10,
    )
    for item in listed.items:
        if item.id == invite_id:
            return invite_pb2.OrganizationInviteStatus.Name(item.status)
    return None


def main():
    channel = grpc.insecure_channel(TARGET)
    stub = service_grpc.OrganizationInviteServiceStub(channel)
    health = health_pb2_grpc.HealthStub(channel)

    for service in ("", SERVICE):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        check(
            f"health {service or '(server)'} is SERVING",
            answer.status == health_pb2.HealthCheckResponse.SERVING,
            answer,
        )

    start = admin("GET", "/admin/v1/clock")
    check("the clock starts unshifted", start["shiftSeconds"] == 0, start)

    # Create, read the token from the outbox, accept.
    created = stub.CreateOrganizationInvite(
        service_pb2.CreateOrganizationInviteRequest(organization_id=ORG, email="grace@example.com"),
        metadata=auth(ADMIN_KEY),
        timeout=10,
    ).invite
    check("create is PENDING", created.status == invite_pb2.ORGANIZATION_INVITE_STATUS_PENDING)
    emails = outbox("Grace@Example.com")
    check("the outbox holds grace's email", len(emails) == 1, emails)
    check("its kind is invitation", emails and emails[0]["kind"] == "invitation", emails)
    check("it names the invitation", emails and emails[0]["inviteId"] == created.id, emails)
    accepted = stub.AcceptOrganizationInvite(
        service_pb2.AcceptOrganizationInviteRequest(organization_id=ORG, token=emails[0]["token"]),
        metadata=auth(GRACE_KEY),
        timeout=10,
    )
    check("accept with the outbox's token joins the organization", accepted.organization.id == ORG)
    check("the invitation reads ACCEPTED", status_of(stub, created.id) == "ORGANIZATION_INVITE_STATUS_ACCEPTED")

    # Move the clock 8 days: a pending invitation expires, its token stops working.
    bob = stub.CreateOrganizationInvite(
        service_pb2.CreateOrganizationInviteRequest(organization_id=ORG, email="bob@example.com"),
        metadata=auth(ADMIN_KEY),
        timeout=10,
    ).invite
    bob_token = outbox("bob@example.com")[-1]["token"]
    moved = admin("POST", "/admin/v1/clock", {"advanceSeconds": 8 * DAY})
    check("the clock moved 8 days", moved["shiftSeconds"] == 8 * DAY, moved)
    check("bob's invitation reads EXPIRED", status_of(stub, bob.id) == "ORGANIZATION_INVITE_STATUS_EXPIRED")
    try:
        stub.AcceptOrganizationInvite(
            service_pb2.AcceptOrganizationInviteRequest(organization_id=ORG, token=bob_token),
            metadata=auth(GRACE_KEY),
            timeout=10,
        )
        check("an expired token is refused", False, "it was accepted")
    except grpc.RpcError as error:
        check("an expired token is NOT_FOUND", error.code() == grpc.StatusCode.NOT_FOUND, error.code())
    resent = stub.ResendOrganizationInvite(
        service_pb2.ResendOrganizationInviteRequest(organization_id=ORG, invite_id=bob.id),
        metadata=auth(ADMIN_KEY),
        timeout=10,
    ).invite
    check("a resend makes the expired invitation PENDING", resent.status == invite_pb2.ORGANIZATION_INVITE_STATUS_PENDING)
    check(
        "the resend is in the outbox",
        [e["kind"] for e in outbox("bob@example.com")] == ["invitation", "resend"],
    )

    # The 24-hour idempotency window, on the emulator's clock.
    def create_carol():
        return stub.CreateOrganizationInvite(
            service_pb2.CreateOrganizationInviteRequest(
                organization_id=ORG, email="carol@example.com", idempotency_key="carol-1"
            ),
            metadata=auth(ADMIN_KEY),
            timeout=10,
        ).invite

    first = create_carol()
    again = create_carol()
    check("a repeat within 24 h returns the first answer", again.id == first.id)
    check("and sends no email", len(outbox("carol@example.com")) == 1)
    admin("POST", "/admin/v1/clock", {"advanceSeconds": 25 * 3600})
    create_carol()
    check("after 24 h the key is forgotten: a resend email", len(outbox("carol@example.com")) == 2)

    # Reset: back to the seed, outbox empty, clock unshifted.
    reset = admin("POST", "/admin/v1/reset")
    check("reset puts the clock back", reset["shiftSeconds"] == 0, reset)
    check("reset empties the outbox", admin("GET", "/admin/v1/emails")["emails"] == [])
    listed = stub.ListOrganizationInvites(
        service_pb2.ListOrganizationInvitesRequest(organization_id=ORG),
        metadata=auth(ADMIN_KEY),
        timeout=10,
    )
    check("reset removes the invitations", len(listed.items) == 0, listed)
    try:
        stub.ListOrganizationInvites(
            service_pb2.ListOrganizationInvitesRequest(organization_id=ORG),
            metadata=auth("ffy_nope"),
            timeout=10,
        )
        check("an unknown key is refused", False)
    except grpc.RpcError as error:
        check("an unknown key is UNAUTHENTICATED", error.code() == grpc.StatusCode.UNAUTHENTICATED)

    print(f"emulator-python: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
