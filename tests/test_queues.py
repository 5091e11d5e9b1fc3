"""Each kind of job has its queue, so deployments can size workers per kind (docs/deploy.md)."""

import pytest

from config.celery import app
from core.jobs.models import Job
from core.jobs.registry import job_kind_get, job_task
from core.jobs.services import job_send


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("consistency.tasks.runs.agreement_run_compute_task", "runs"),
        ("consistency.tasks.fits.labeler_fit_refresh_task", "runs"),
        ("labeling.tasks.leases.leases_reclaim_task", "concord"),
    ],
)
def test_each_task_is_routed_to_its_queue(task, queue):
    app.loader.import_default_modules()
    assert app.amqp.router.route({}, task)["queue"].name == queue


@pytest.mark.parametrize(
    ("kind", "queue"),
    [
        ("import_items", "imports"),
        ("import_annotations", "imports"),
        ("snapshot", "exports"),
        ("project_stats", "concord"),
    ],
)
def test_each_job_kind_is_routed_to_its_queue(kind, queue, monkeypatch):
    """Every job runs through core's one task; the message carries its kind's queue and time
    limits, and the router keeps that queue."""
    sent = {}
    monkeypatch.setattr(job_task(), "apply_async", lambda **options: sent.update(options))
    job_send(job=Job(id=1, kind=kind))
    assert app.amqp.router.route(dict(sent), job_task().name)["queue"].name == queue
    spec = job_kind_get(kind)
    assert (sent["soft_time_limit"], sent["time_limit"]) == (spec.soft_time_limit, spec.time_limit)


def test_a_worker_without_queue_options_consumes_every_queue():
    assert {q.name for q in app.amqp.queues.values()} == {"concord", "imports", "runs", "exports"}


def test_every_registered_job_runner_imports():
    """Runners are registered by dotted path (start-up stays light); each one must resolve."""
    from core.jobs.registry import job_kinds, job_runner

    for spec in job_kinds():
        assert spec.runner is None or callable(job_runner(spec)), spec.kind


def _named_tasks() -> set[str]:
    """Every task a service names (services name tasks; importing them would close a circle)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    names = set()
    for path in [*root.glob("*/services/**/*.py"), *root.glob("core/**/*.py")]:
        names |= set(
            re.findall(
                r'"((?:core|labeling|consistency)\.tasks\.[\w.]+|core\.jobs\.tasks\.\w+)"', path.read_text()
            )
        )
    return names


def test_every_task_a_service_names_is_a_celery_task():
    from celery import Task

    from core.jobs.services import task_named

    names = _named_tasks()
    assert {
        "consistency.tasks.runs.agreement_run_compute_task",
        "consistency.tasks.runs.agreement_run_debounced_task",
        "consistency.tasks.fits.labeler_fit_refresh_task",
        "consistency.tasks.exports.export_counts_warm_task",
    } <= names
    for name in names:
        task = task_named(name)
        assert isinstance(task, Task) and task.name == name, name


def test_a_name_that_is_not_a_task_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    from core.jobs.services import task_named

    with pytest.raises(ImproperlyConfigured):
        task_named("core.jobs.services.job_send")
    with pytest.raises(ImportError):
        task_named("consistency.tasks.runs.no_such_task")
