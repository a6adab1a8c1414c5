# PostgreSQL (every organization is a schema in this one database) ----------------

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_db_instance" "postgres" {
  identifier                  = var.name
  engine                      = "postgres"
  engine_version              = var.postgres.engine_version
  instance_class              = var.postgres.instance_class
  allocated_storage           = var.postgres.allocated_storage
  storage_encrypted           = true
  multi_az                    = var.postgres.multi_az
  db_name                     = "publishmdm"
  username                    = "publishmdm"
  manage_master_user_password = true
  db_subnet_group_name        = aws_db_subnet_group.this.name
  vpc_security_group_ids      = var.security_group_ids
  backup_retention_period     = 14
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "${var.name}-final"
}

# Redis (channels-redis, throttling) -------------------------------------------------

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_elasticache_replication_group" "redis" {
  replication_group_id       = var.name
  description                = "Publish MDM channel layer and API throttles"
  engine                     = "redis"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = var.security_group_ids
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
}

# S3 (organizations' files under tenants/<schema>/) --------------------------------

resource "aws_s3_bucket" "files" {
  bucket = "${var.name}-files"
}

resource "aws_s3_bucket_public_access_block" "files" {
  bucket                  = aws_s3_bucket.files.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "files" {
  bucket = aws_s3_bucket.files.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "files" {
  bucket = aws_s3_bucket.files.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

# DNS: the control plane and a wildcard for every organization ----------------------

resource "aws_route53_record" "base" {
  zone_id = var.route53_zone_id
  name    = var.base_domain
  type    = "A"

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "wildcard" {
  zone_id = var.route53_zone_id
  name    = "*.${var.base_domain}"
  type    = "A"

  alias {
    name                   = var.load_balancer.dns_name
    zone_id                = var.load_balancer.zone_id
    evaluate_target_health = true
  }
}

# Infisical: the machine identity the platform uses to create each organization's
# project (INFISICAL_CLIENT_ID / INFISICAL_CLIENT_SECRET of the application) ------

resource "infisical_identity" "platform" {
  name   = var.name
  role   = "admin"
  org_id = var.infisical_org_id
}

resource "infisical_identity_universal_auth" "platform" {
  identity_id = infisical_identity.platform.id
}

resource "infisical_identity_universal_auth_client_secret" "platform" {
  identity_id = infisical_identity.platform.id
  description = "Publish MDM application (${var.name})"

  depends_on = [infisical_identity_universal_auth.platform]
}
