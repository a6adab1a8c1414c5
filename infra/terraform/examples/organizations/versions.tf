terraform {
  required_version = ">= 1.7"

  required_providers {
    publishmdm = {
      source  = "publishmdm.local/publishmdm/publishmdm"
      version = "~> 0.1"
    }
  }
}

# URL and token come from PUBLISHMDM_URL and PUBLISHMDM_TOKEN, so that the
# token is never written in configuration (nor, as provider configuration, in state).
provider "publishmdm" {}
