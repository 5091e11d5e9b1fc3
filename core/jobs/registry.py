"""Job kinds, registered by the apps that run them.

Each app registers its kinds in its ``AppConfig.ready()``: the runner that does the work (its
dotted path, imported when a job of the kind first runs: web processes start without loading
the runners' pandas and numpy), the queue its jobs go to (so deployments size workers per
kind), the time limits of one run, and who may read a project's job of that kind. One Celery
task (:func:`core.jobs.tasks.job_run`) runs every kind: it finds the runner here by the job's
kind. Services dispatch jobs without importing any tasks module.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celery import Task
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from core.jobs.models import Job

ProgressFn = Callable[[int], None]
Runner = Callable[["Job", ProgressFn], dict[str, Any]]
# Whether a user may read a project's job of this kind now (checked on every read).
ReaderCheck = Callable[[AbstractBaseUser | AnonymousUser, "Job"], bool]


@dataclass(frozen=True)
class JobKindSpec:
    kind: str
    label: str
    runner: str | None  # dotted path of a Runner; None: a kind no worker runs (rows made elsewhere)
    queue: str
    soft_time_limit: int
    time_limit: int
    can_read: ReaderCheck


_KINDS: dict[str, JobKindSpec] = {}
_TASK: list[Task[[int], None]] = []


def jobs_register(
    *,
    kind: str,
    label: str,
    runner: str | None,
    can_read: ReaderCheck,
    queue: str = "concord",
    soft_time_limit: int = 1700,
    time_limit: int = 1800,
) -> None:
    """Register a job kind (from an ``AppConfig.ready()``); registering it again replaces it."""
    if soft_time_limit >= time_limit:
        raise ValueError(f"{kind}: the soft time limit must be below the hard one")
    _KINDS[kind] = JobKindSpec(
        kind=kind,
        label=label,
        runner=runner,
        queue=queue,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        can_read=can_read,
    )


def job_kind_get(kind: str) -> JobKindSpec | None:
    return _KINDS.get(kind)


def job_kinds() -> list[JobKindSpec]:
    return list(_KINDS.values())


def job_runner(spec: JobKindSpec) -> Runner | None:
    """The kind's runner, imported on first use."""
    if spec.runner is None:
        return None
    runner: Runner = import_string(spec.runner)
    return runner


def job_kind_label(kind: str) -> str:
    spec = _KINDS.get(kind)
    return spec.label if spec else kind


def job_task_set(task: "Task[[int], None]") -> None:
    """The one task that runs jobs (core's AppConfig.ready() sets it)."""
    _TASK[:] = [task]


def job_task() -> "Task[[int], None]":
    if not _TASK:
        raise RuntimeError("core.jobs.tasks.job_run is not registered: is 'core' in INSTALLED_APPS?")
    return _TASK[0]
