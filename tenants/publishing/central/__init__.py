"""ODK Central client, built per tenant from that tenant's credentials.

    from tenants.publishing.central import CentralClient, CentralConflict

See ``client.py`` for the API and ``transport.py`` for the retry, token and
concurrency rules.
"""

from tenants.publishing.central.client import (
    XLS_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    CentralClient,
)
from tenants.publishing.central.errors import (
    CentralAuthError,
    CentralConflict,
    CentralError,
    CentralForbidden,
    CentralNotFound,
    CentralUnavailable,
    CentralValidationError,
)

__all__ = [
    "XLS_CONTENT_TYPE",
    "XLSX_CONTENT_TYPE",
    "XML_CONTENT_TYPE",
    "CentralAuthError",
    "CentralClient",
    "CentralConflict",
    "CentralError",
    "CentralForbidden",
    "CentralNotFound",
    "CentralUnavailable",
    "CentralValidationError",
]
