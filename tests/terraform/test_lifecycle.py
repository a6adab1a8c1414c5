"""``terraform init → apply → plan → update → import → destroy`` through the real provider.

One test walks the whole life of organizations declared in
``infra/terraform/examples/organizations`` (which uses the organization
module), checking the control plane's own records after every step.
"""

from __future__ import annotations

import json
import time
import urllib.request

from control_plane.accounts.models import Invitation, Membership
from control_plane.billing.services import plan_slug_of
from control_plane.organizations.models import (
    Domain,
    Organization,
    OrganizationStatus,
    PlatformAuditEvent,
)
from control_plane.organizations.services.domains import custom_domains_of

NORTH = {
    "name": "TF North",
    "plan": "team",
    "custom_domains": ["forms.tf-north.example.org"],
    "owner_email": "director@tf-north.example.org",
}
SOUTH = {"name": "TF South", "owner_email": "lead@tf-south.example.org"}


def _org(slug: str) -> Organization:
    return Organization.objects.get(slug=slug)


def _open_invitations(organization: Organization) -> list[tuple[str, str]]:
    return sorted(
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        ).values_list("email", "role")
    )


def _signup(control_plane, slug: str) -> None:
    """Sign up through the public endpoint, as the web page does, and wait for provisioning."""
    host = control_plane.url.split("//", 1)[1]
    port = host.rsplit(":", 1)[1]
    body = json.dumps(
        {
            "email": f"founder@{slug}.example.org",
            "password": "a-long-unusual-passphrase-77",
            "organization_name": "Signup Co",
            "slug": slug,
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built here
        f"http://127.0.0.1:{port}/api/v1/signup/",
        data=body,
        headers={"Host": host, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201
    deadline = time.monotonic() + 120
    while _org(slug).status != OrganizationStatus.ACTIVE:
        assert time.monotonic() < deadline, f"{slug} was not provisioned: {_org(slug).status}"
        time.sleep(0.2)


def test_organizations_through_their_whole_life(terraform, control_plane):
    # --- apply: two organizations, their owner invitations --------------------------
    terraform.write_vars({"tf-north": NORTH, "tf-south": SOUTH})
    applied = terraform("apply", "-auto-approve", "-parallelism=10")
    assert "4 added, 0 changed, 0 destroyed" in applied.stdout

    north, south = _org("tf-north"), _org("tf-south")
    assert (north.status, south.status) == (OrganizationStatus.ACTIVE, OrganizationStatus.ACTIVE)
    assert (plan_slug_of(north), plan_slug_of(south)) == ("team", "free")
    assert custom_domains_of(north) == ["forms.tf-north.example.org"]
    assert north.primary_domain == "tf-north.publishmdm.localhost"
    assert _open_invitations(north) == [("director@tf-north.example.org", "owner")]
    assert _open_invitations(south) == [("lead@tf-south.example.org", "owner")]
    labels = set(
        PlatformAuditEvent.objects.filter(organization=north).values_list("actor_label", flat=True)
    )
    assert any(label.startswith("platform-token:terraform-tests") for label in labels)
    outputs = terraform.outputs()
    assert outputs["organizations"]["value"]["tf-north"]["url"].startswith(
        "http://tf-north.publishmdm.localhost"
    )
    assert outputs["organizations"]["value"]["tf-north"]["api_base"].endswith("/api/v1/")
    assert outputs["plan_limits"]["value"]["team"]["max_custom_domains"] == 3
    state = (terraform.workdir / "terraform.tfstate").read_text()
    assert control_plane.token not in state  # the token never reaches the state

    # --- plan right after apply: nothing to do ------------------------------------------
    assert terraform("plan", "-detailed-exitcode").returncode == 0

    # --- in-place update: rename, change domains and plan -----------------------------------
    north_id, south_id = north.pk, south.pk
    terraform.write_vars(
        {
            "tf-north": {
                **NORTH,
                "name": "TF North Region",
                "custom_domains": ["data.tf-north.example.org"],
            },
            "tf-south": {**SOUTH, "plan": "team"},
        }
    )
    updated = terraform("apply", "-auto-approve")
    assert "0 added, 2 changed, 0 destroyed" in updated.stdout
    north, south = _org("tf-north"), _org("tf-south")
    assert (north.pk, south.pk) == (north_id, south_id)  # changed in place, not replaced
    assert north.name == "TF North Region"
    assert custom_domains_of(north) == ["data.tf-north.example.org"]
    assert plan_slug_of(south) == "team"
    assert not Domain.objects.filter(domain="forms.tf-north.example.org").exists()
    assert terraform("plan", "-detailed-exitcode").returncode == 0

    # --- drift: an invitation revoked by hand is planned again ---------------------------------
    Invitation.objects.filter(organization=south).update(revoked_at=north.created_at)
    drift = terraform("plan", "-detailed-exitcode", check=False)
    assert (
        drift.returncode == 2 and "publishmdm_invitation.owner[0] will be created" in drift.stdout
    )
    terraform("apply", "-auto-approve")
    assert _open_invitations(south) == [("lead@tf-south.example.org", "owner")]

    # --- import an organization created by signup ---------------------------------------------
    _signup(control_plane, "signup-co")
    organizations = {
        "tf-north": {
            **NORTH,
            "name": "TF North Region",
            "custom_domains": ["data.tf-north.example.org"],
        },
        "tf-south": {**SOUTH, "plan": "team"},
        "signup-co": {"name": "Signup Co", "plan": "free"},
    }
    terraform.write_vars(organizations)
    terraform(
        "import", 'module.organization["signup-co"].publishmdm_organization.this', "signup-co"
    )
    assert terraform("plan", "-detailed-exitcode").returncode == 0  # imported matches the config

    # --- destroy: refused for the organization that holds data, the others archived -------------
    refused = terraform("destroy", "-auto-approve", check=False)
    assert refused.returncode != 0
    assert "signup-co holds data; destroy refused" in refused.stdout + refused.stderr
    assert "confirm_destroy = true" in refused.stdout + refused.stderr
    assert _org("tf-north").status == OrganizationStatus.ARCHIVED
    assert _org("tf-south").status == OrganizationStatus.ARCHIVED
    assert _open_invitations(_org("tf-north")) == []  # revoked before archiving
    signup_co = _org("signup-co")
    assert signup_co.status == OrganizationStatus.ACTIVE
    assert Membership.objects.filter(organization=signup_co).count() == 1

    # --- confirm, then destroy the rest ---------------------------------------------------------
    terraform.write_vars(
        {"signup-co": {"name": "Signup Co", "plan": "free", "confirm_destroy": True}}
    )
    confirmed = terraform("apply", "-auto-approve")
    assert "0 added, 1 changed, 0 destroyed" in confirmed.stdout
    terraform("destroy", "-auto-approve")
    assert _org("signup-co").status == OrganizationStatus.ARCHIVED
    assert json.loads(terraform("show", "-json").stdout).get("values") is None  # empty state
    print("\n".join(terraform.log))


def test_a_failed_provisioning_is_reported_with_its_step(terraform, org_a):
    # The host provisioning would add already belongs to another organization.
    Domain.objects.create(domain="tf-broken.publishmdm.localhost", tenant=org_a, is_primary=False)
    terraform.write_vars({"tf-broken": {"name": "Broken"}})

    failed = terraform("apply", "-auto-approve", check=False)

    assert failed.returncode == 1
    assert "Provisioning tf-broken failed at step “domain”" in failed.stdout + failed.stderr
    assert _org("tf-broken").status == OrganizationStatus.FAILED
    state = json.loads((terraform.workdir / "terraform.tfstate").read_text())
    managed = [r for r in state["resources"] if r["mode"] == "managed"]
    assert managed == []  # nothing half-made in state: the next apply retries
