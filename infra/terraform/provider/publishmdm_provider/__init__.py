"""Terraform provider for Publish MDM's control-plane API.

Resources ``publishmdm_organization`` and ``publishmdm_invitation``, data
source ``publishmdm_plan``. It talks to ``/api/v1/`` on the platform's base
host with a platform token; see docs/terraform.md.
"""

VERSION = "0.1.0"
HOSTNAME = "publishmdm.local"
NAMESPACE = "publishmdm"
TYPE = "publishmdm"
SOURCE = f"{HOSTNAME}/{NAMESPACE}/{TYPE}"
