# One organization of Publish MDM and the invitation of its first owner.
#
# The provider creates the organization through the control-plane API and
# waits until provisioning is active (schema, domain, storage, secret store);
# destroying archives it, and refuses while it holds data unless
# confirm_destroy is true.

resource "publishmdm_organization" "this" {
  slug = var.slug
  name = var.name
  plan = var.plan
  # Empty and false are passed as null, which is how the provider reads an
  # organization it imports: an imported organization then plans no change.
  custom_domains  = length(var.custom_domains) > 0 ? var.custom_domains : null
  confirm_destroy = var.confirm_destroy ? true : null
}

resource "publishmdm_invitation" "owner" {
  count = var.owner_email == null ? 0 : 1

  organization = publishmdm_organization.this.slug
  email        = var.owner_email
  role         = "owner"
}
