"""Each kind of job has its queue, so deployments can size workers per kind (docs/deploy.md)."""

import pytest

from config.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("labeling.tasks.imports.items_import_task", "imports"),
        ("labeling.tasks.imports.annotations_import_task", "imports"),
        ("consistency.tasks.runs.agreement_run_compute_task", "runs"),
        ("consistency.tasks.fits.labeler_fit_refresh_task", "runs"),
        ("consistency.tasks.runs.snapshot_create_task", "exports"),
        ("labeling.tasks.leases.leases_reclaim_task", "concord"),
        ("labeling.tasks.stats.project_stats_refresh_task", "concord"),
    ],
)
def test_each_job_kind_is_routed_to_its_queue(task, queue):
    app.loader.import_default_modules()
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_worker_without_queue_options_consumes_every_queue():
    assert {q.name for q in app.amqp.queues.values()} == {"concord", "imports", "runs", "exports"}
