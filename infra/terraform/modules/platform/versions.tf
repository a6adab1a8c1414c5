# The platform's own cloud resources. Unlike the organization module, this one
# uses providers from the public Terraform registry (hashicorp/aws,
# infisical/infisical): `terraform init` needs registry access (or a mirror of
# those providers). CI checks it with `terraform fmt -check` only.
terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    infisical = {
      source  = "infisical/infisical"
      version = ">= 0.15"
    }
  }
}
