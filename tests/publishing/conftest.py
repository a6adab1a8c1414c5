from tests.fakes.central import fake_central  # noqa: F401
from tests.fakes.google import fake_google  # noqa: F401
from tests.publishing.fixtures import (  # noqa: F401
    central,
    central_server,
    in_org_a,
    project,
    tenant_tx,
    tx_project,
    tx_server,
)
