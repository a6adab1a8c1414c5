"""Background jobs of the control plane (Procrastinate)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from control_plane.jobs import job_context


@app.task(name="organizations.provision", queue="provisioning", retry=3)
def provision_organization(organization_id: int) -> None:
    from control_plane.organizations.services.provisioning import organization_provision

    with job_context(job="organizations.provision", organization_id=organization_id):
        organization_provision(organization_id)


@app.task(name="organizations.fill_spare_pool", queue="maintenance")
def fill_spare_pool() -> None:
    from control_plane.organizations.services.spare_pool import spare_pool_fill

    with job_context(job="organizations.fill_spare_pool"):
        spare_pool_fill()


@app.periodic(cron="*/10 * * * *", periodic_id="spare-pool")
@app.task(
    name="organizations.fill_spare_pool_periodic",
    queue="maintenance",
    queueing_lock="spare-pool-periodic",
)
def fill_spare_pool_periodic(timestamp: int) -> None:
    fill_spare_pool()
