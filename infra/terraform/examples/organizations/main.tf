# Several organizations from one map: add an entry and apply to provision one,
# change an entry to update it in place, remove it (or destroy) to archive it.

module "organization" {
  source   = "../../modules/organization"
  for_each = var.organizations

  slug            = each.key
  name            = each.value.name
  plan            = each.value.plan
  custom_domains  = each.value.custom_domains
  owner_email     = each.value.owner_email
  confirm_destroy = each.value.confirm_destroy
}

data "publishmdm_plan" "used" {
  for_each = toset([for org in var.organizations : org.plan if org.plan != null])

  slug = each.key
}
