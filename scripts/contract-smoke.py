"""Smoke test of the Python client generated from openapi/openapi.json (by contract-check.sh).

Creates a CoC, an agency and a project (system admin), a client (case worker of the new
agency), reads the client back and finds it by search, each through the generated client, which
parses every answer with the contract's schemas. Prints the ids schemathesis should use as
`KEY=VALUE` lines. Any surprise exits non-zero.

Environment: HEARTH_URL, HEARTH_ADMIN_TOKEN, HEARTH_TOKEN_CMD (a command that prints a case
worker token when given the agency id as its last argument).
"""

import datetime
import os
import random
import string
import subprocess
import sys

from hearth_client import AuthenticatedClient
from hearth_client.api.client_data import add_contact, add_document, document_content
from hearth_client.api.clients import create_client, get_client, search_clients
from hearth_client.api.consents import grant
from hearth_client.api.stays import create_enrollment
from hearth_client.api.tenants import create_agency, create_coc, create_project, get_coc
from hearth_client.models import (
    ClientSearch,
    ConsentOutcome,
    ContactKind,
    NewContact,
    NewDocument,
    NewRoi,
    RoiMethod,
    ClientView,
    ClientWrite,
    Coc,
    IdentityMode,
    NewAgency,
    NewClient,
    NewCoc,
    NewEnrollment,
    NewProject,
    SearchResult,
)


def expect(response, status, model, what):
    if response.status_code != status or not isinstance(response.parsed, model):
        sys.exit(
            f"contract smoke: {what} answered {int(response.status_code)} "
            f"({type(response.parsed).__name__}): {response.content[:500]!r}"
        )
    return response.parsed


def main():
    url = os.environ["HEARTH_URL"]
    admin = AuthenticatedClient(base_url=url, token=os.environ["HEARTH_ADMIN_TOKEN"], raise_on_unexpected_status=True)
    rng = random.Random()
    code = "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + "-" + f"{rng.randrange(1000):03}"

    coc = expect(create_coc.sync_detailed(client=admin, body=NewCoc(code=code, name="Smoke CoC")), 201, Coc, "create CoC")
    expect(get_coc.sync_detailed(code=coc.code, client=admin), 200, Coc, "read CoC")
    agency = expect(
        create_agency.sync_detailed(client=admin, body=NewAgency(coc_code=code, name="Smoke Agency", shares_data=True)),
        201,
        object,
        "create agency",
    )
    project = expect(
        create_project.sync_detailed(client=admin, body=NewProject(agency_id=agency.id, name="Smoke Shelter", project_type=1)),
        201,
        object,
        "create project",
    )

    cmd = os.environ["HEARTH_TOKEN_CMD"].split() + [str(agency.id)]
    worker_token = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
    worker = AuthenticatedClient(base_url=url, token=worker_token, raise_on_unexpected_status=True)

    written = expect(
        create_client.sync_detailed(
            client=worker,
            body=NewClient(identity_mode=IdentityMode.IDENTIFIED, first_name="Marisol", last_name="Okafor", dob=datetime.date(1984, 3, 9)),
        ),
        201,
        ClientWrite,
        "create client",
    )
    client_id = written.client.id
    view = expect(get_client.sync_detailed(id=client_id, client=worker), 200, ClientView, "read client")
    if view.id != client_id or view.access.level.value != "full":
        sys.exit(f"contract smoke: the client read back is not the one created at full access: {view.to_dict()}")
    found = expect(
        search_clients.sync_detailed(client=worker, body=ClientSearch(last_name="Okafor", dob=datetime.date(1984, 3, 9))),
        200,
        SearchResult,
        "search",
    )
    if client_id not in [hit.client.id for hit in found.items]:
        sys.exit("contract smoke: search does not find the client just created")
    stay = expect(
        create_enrollment.sync_detailed(
            id=client_id,
            client=worker,
            body=NewEnrollment(project_id=project.id, entry_date=datetime.date.today() - datetime.timedelta(days=3), relationship_to_hoh=1),
        ),
        201,
        object,
        "enroll",
    )
    contact = expect(
        add_contact.sync_detailed(id=client_id, client=worker, body=NewContact(kind=ContactKind.EMAIL, value="smoke@example.org")),
        201,
        object,
        "add contact",
    )
    document = expect(
        add_document.sync_detailed(
            id=client_id,
            client=worker,
            body=NewDocument(file_name="intake.txt", content_type="text/plain", content_base64="aW50YWtlIGZvcm0K"),
        ),
        201,
        object,
        "add document",
    )
    content = document_content.sync_detailed(id=client_id, document_id=document.id, client=worker)
    if content.status_code != 200 or content.content != b"intake form\n":
        sys.exit(f"contract smoke: the document reads back as {int(content.status_code)} {content.content[:100]!r}")
    consent = expect(
        grant.sync_detailed(id=client_id, client=worker, body=NewRoi(method=RoiMethod.SIGNED)),
        201,
        ConsentOutcome,
        "grant an ROI",
    )
    print(f"HEARTH_CONTACT={contact.id}")
    print(f"HEARTH_DOCUMENT={document.id}")
    print(f"HEARTH_CONSENT={consent.consent.id}")
    print(f"HEARTH_COC={code}")
    print(f"HEARTH_AGENCY={agency.id}")
    print(f"HEARTH_PROJECT={project.id}")
    print(f"HEARTH_CLIENT={client_id}")
    print(f"HEARTH_ENROLLMENT={stay.enrollment.id}")
    print(
        "contract smoke: CoC, agency, project, client, read, search, enrollment, contact, document and ROI "
        "through the generated client: ok",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
