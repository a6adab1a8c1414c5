variable "organizations" {
  description = "Organizations by slug."
  type = map(object({
    name            = string
    plan            = optional(string)
    custom_domains  = optional(set(string), [])
    owner_email     = optional(string)
    confirm_destroy = optional(bool, false)
  }))
}
