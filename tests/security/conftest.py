"""Fixtures shared by the security tests: the fake services and a small workspace.

No autouse fixtures here on purpose: each module sets the limits it tests
(throttles, body sizes) itself, so that modules never change each other's
conditions.
"""

from __future__ import annotations

from tests.fakes.central import fake_central  # noqa: F401
from tests.fakes.google import fake_google  # noqa: F401
from tests.frontend.conftest import as_role, workspace  # noqa: F401
from tests.publishing.fixtures import (  # noqa: F401
    central,
    central_server,
    in_org_a,
    project,
    tenant_tx,
    tx_project,
    tx_server,
)
