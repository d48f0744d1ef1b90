"""The imports' background tasks: the run itself, and recovering from a dead worker."""

from __future__ import annotations

from ..tasks import on_worker_start, periodic_task, task
from .runner import reap_stale, run_job


@task(name="erp.imports.run")
def run_import(job_id: int) -> None:
    run_job(job_id)


@periodic_task(minutes=1, name="erp.imports.reap_stale")
def reap_stale_imports() -> None:
    reap_stale()


# A worker that starts finds the jobs its dead predecessor left running at once.
on_worker_start(reap_stale)
