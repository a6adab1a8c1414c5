"""Jobs of the runtime itself: hand the jobs of a dead worker to a live one.

A worker that is killed (OOM, a lost machine, ``kill -9``) leaves its jobs in
``doing`` for ever. Every worker sends a heartbeat (``WORKER_HEARTBEAT_SECONDS``);
this periodic job, which any live worker runs, puts back in the queue every
job whose worker has been silent for ``WORKER_STALLED_SECONDS``, and another
worker picks it up. Our jobs are idempotent (a publish run resumes where it
stopped and never repeats what Central already has), so running one again
is safe.
"""

from __future__ import annotations

import structlog
from django.conf import settings
from procrastinate.contrib.django import app

log = structlog.get_logger(__name__)

TASK_NAME = "runtime.retry_stalled_jobs"


@app.periodic(
    cron=f"* * * * * */{settings.WORKER_STALLED_CHECK_SECONDS}", periodic_id="stalled-jobs"
)
@app.task(name=TASK_NAME, queue="maintenance", queueing_lock="stalled-jobs")
async def retry_stalled_jobs(timestamp: int) -> int:
    """Requeue the jobs of workers without a recent heartbeat; returns how many."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.WORKER_STALLED_SECONDS
    )
    count = 0
    for job in stalled:
        if job.task_name == TASK_NAME:
            continue  # its own dead copies: the next tick does the work
        await app.job_manager.retry_job(job)
        count += 1
        log.warning(
            "jobs.stalled_job_requeued", job=job.id, task=job.task_name, worker=job.worker_id
        )
    return count
