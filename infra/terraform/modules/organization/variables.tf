variable "slug" {
  description = "The organization's address: <slug>.<base domain>, and its schema org_<slug>. Changing it replaces the organization."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.slug)) && !strcontains(var.slug, "--")
    error_message = "Use 3 to 40 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
}

variable "name" {
  description = "The organization's display name."
  type        = string
}

variable "plan" {
  description = "Plan slug (free, team, enterprise, ...); null keeps the platform's default."
  type        = string
  default     = null
}

variable "custom_domains" {
  description = "Extra host names for the organization (lowercase, outside the platform's domain)."
  type        = set(string)
  default     = []
}

variable "owner_email" {
  description = "Who is invited as the first owner; null for no invitation (e.g. an imported organization that has its owner)."
  type        = string
  default     = null
}

variable "confirm_destroy" {
  description = "Set to true and apply before destroying an organization that holds data (members or content)."
  type        = bool
  default     = false
}
