variable "name" {
  description = "Prefix of every resource's name, e.g. publishmdm-prod."
  type        = string
}

variable "base_domain" {
  description = "BASE_DOMAIN of the deployment (organizations live at <slug>.<base_domain>)."
  type        = string
}

variable "route53_zone_id" {
  description = "Hosted zone that holds base_domain."
  type        = string
}

variable "load_balancer" {
  description = "The load balancer in front of the web processes (DNS name and hosted zone id)."
  type = object({
    dns_name = string
    zone_id  = string
  })
}

variable "subnet_ids" {
  description = "Private subnets for PostgreSQL and Redis."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups allowing the web and worker processes in."
  type        = list(string)
}

variable "postgres" {
  description = "PostgreSQL sizing. Use session pooling only in front of it (the tenant is a per-session search_path)."
  type = object({
    instance_class    = optional(string, "db.t4g.medium")
    allocated_storage = optional(number, 50)
    engine_version    = optional(string, "16")
    multi_az          = optional(bool, true)
  })
  default = {}
}

variable "redis_node_type" {
  description = "ElastiCache node type (channel layer, API throttle counters)."
  type        = string
  default     = "cache.t4g.small"
}

variable "infisical_org_id" {
  description = "Infisical organization in which the platform creates one project per customer."
  type        = string
}
