output "slug" {
  description = "The organization's slug."
  value       = publishmdm_organization.this.slug
}

output "url" {
  description = "The organization's workspace URL."
  value       = publishmdm_organization.this.url
}

output "api_base" {
  description = "Base URL of the organization's REST API (/api/v1/ on its host)."
  value       = publishmdm_organization.this.api_base
}

output "status" {
  description = "Provisioning/lifecycle status (active once apply has finished)."
  value       = publishmdm_organization.this.status
}

output "schema_name" {
  description = "The organization's PostgreSQL schema."
  value       = publishmdm_organization.this.schema_name
}

output "infisical_project_id" {
  description = "Its Infisical project (empty with the local secret store)."
  value       = publishmdm_organization.this.infisical_project_id
}

output "owner_invitation_status" {
  description = "open, accepted or expired; null when no owner was invited."
  value       = one(publishmdm_invitation.owner[*].status)
}
