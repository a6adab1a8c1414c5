output "database_host" {
  description = "PostgreSQL endpoint (DATABASE_URL host); the password is in AWS Secrets Manager."
  value       = aws_db_instance.postgres.address
}

output "database_secret_arn" {
  description = "Secrets Manager ARN of the generated master password."
  value       = aws_db_instance.postgres.master_user_secret[0].secret_arn
}

output "redis_url" {
  description = "REDIS_URL (TLS)."
  value       = "rediss://${aws_elasticache_replication_group.redis.primary_endpoint_address}:6379/0"
}

output "s3_bucket" {
  description = "S3_BUCKET."
  value       = aws_s3_bucket.files.bucket
}

output "infisical_client_id" {
  description = "INFISICAL_CLIENT_ID of the application."
  value       = infisical_identity_universal_auth_client_secret.platform.client_id
}

output "infisical_client_secret" {
  description = "INFISICAL_CLIENT_SECRET of the application."
  value       = infisical_identity_universal_auth_client_secret.platform.client_secret
  sensitive   = true
}
