terraform {
  required_version = ">= 1.7"

  required_providers {
    publishmdm = {
      source  = "publishmdm.local/publishmdm/publishmdm"
      version = "~> 0.1"
    }
  }
}
