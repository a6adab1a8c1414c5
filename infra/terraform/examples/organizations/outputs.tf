output "organizations" {
  description = "URL, API base and status of every organization."
  value = {
    for slug, org in module.organization : slug => {
      url      = org.url
      api_base = org.api_base
      status   = org.status
    }
  }
}

output "plan_limits" {
  description = "Limits of the plans in use (null means unlimited)."
  value = {
    for slug, plan in data.publishmdm_plan.used : slug => {
      max_members        = plan.max_members
      max_app_users      = plan.max_app_users
      max_custom_domains = plan.max_custom_domains
    }
  }
}
