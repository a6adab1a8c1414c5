# Offline tests of the module: the provider is mocked (no API needed), only
# its schema is loaded. Run: terraform init -plugin-dir=<mirror> && terraform test

mock_provider "publishmdm" {
  mock_resource "publishmdm_organization" {
    defaults = {
      status               = "active"
      schema_name          = "org_acme"
      primary_domain       = "acme.publishmdm.example.org"
      url                  = "https://acme.publishmdm.example.org/"
      api_base             = "https://acme.publishmdm.example.org/api/v1/"
      secret_backend       = "infisical"
      infisical_project_id = "proj-123"
    }
  }

  mock_resource "publishmdm_invitation" {
    defaults = {
      status = "open"
    }
  }
}

variables {
  slug        = "acme"
  name        = "Acme Health"
  owner_email = "owner@acme.example.org"
}

run "creates_the_organization_and_invites_its_owner" {
  assert {
    condition     = publishmdm_organization.this.slug == "acme" && publishmdm_organization.this.name == "Acme Health"
    error_message = "The organization takes the module's slug and name."
  }

  assert {
    condition     = length(publishmdm_invitation.owner) == 1 && publishmdm_invitation.owner[0].role == "owner"
    error_message = "The owner is invited with the owner role."
  }

  assert {
    condition     = publishmdm_invitation.owner[0].organization == "acme" && publishmdm_invitation.owner[0].email == "owner@acme.example.org"
    error_message = "The invitation targets the organization and the owner's address."
  }

  assert {
    condition     = output.url == "https://acme.publishmdm.example.org/" && output.api_base == "https://acme.publishmdm.example.org/api/v1/"
    error_message = "The module outputs the organization's URL and API base."
  }

  assert {
    condition     = output.owner_invitation_status == "open" && output.status == "active"
    error_message = "Statuses come from the resources."
  }
}

run "plan_domains_and_no_owner" {
  command = plan

  variables {
    owner_email    = null
    plan           = "team"
    custom_domains = ["forms.acme.example.org"]
  }

  assert {
    condition     = length(publishmdm_invitation.owner) == 0
    error_message = "Without owner_email nobody is invited."
  }

  assert {
    condition     = publishmdm_organization.this.plan == "team" && contains(publishmdm_organization.this.custom_domains, "forms.acme.example.org")
    error_message = "Plan and custom domains reach the resource."
  }

  assert {
    condition     = publishmdm_organization.this.confirm_destroy == null
    error_message = "Destroying an organization with data is refused unless confirmed."
  }
}

run "rejects_an_invalid_slug" {
  command = plan

  variables {
    slug = "Not A Slug"
  }

  expect_failures = [var.slug]
}
