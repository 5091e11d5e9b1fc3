"""Refit the labeler estimates of adaptive projects on a worker: after each agreement run, and by
beat when enough new answers arrived since the last fit. The submit path only reads them."""

import logging
from collections.abc import Hashable, Mapping
from functools import partial
from typing import SupportsInt, TypeVar, cast

import pandas as pd
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery

from consistency.metrics.categorical.labeler_estimates import labeler_estimates
from consistency.selectors.annotations import annotations_frame
from consistency.selectors.labels import gold_values
from consistency.selectors.schema import class_names
from core.jobs.services import task_named
from labeling.models import Annotation, LabelerFit, OverlapPolicy, Project
from labeling.selectors.schema_versions import schema_version_current
from labeling.services.adaptive import ADAPTIVE_KINDS, labeler_fit_store

logger = logging.getLogger(__name__)

# Named, not imported: the tasks module imports this service (docs/architecture.md).
FIT_REFRESH_TASK = "consistency.tasks.fits.labeler_fit_refresh_task"
# Refit when the answers grew by this share since the last fit (and by at least REFIT_MIN).
REFIT_GROWTH = 0.1
REFIT_MIN = 25


def labeler_fit_refresh(*, project_id: int) -> LabelerFit | None:
    """Fit Dawid–Skene (gold-calibrated) on the project's current answers and store each
    labeler's confusion matrix. Safe to run twice; does nothing for other projects or kinds."""
    project = Project.objects.filter(pk=project_id).first()
    if project is None or project.label_kind not in ADAPTIVE_KINDS:
        return None
    version = schema_version_current(project=project, with_classes=True)
    frame = annotations_frame(project=project, schema_version=version)
    names = class_names(version)
    answered = frame[~frame["skipped"] & ~frame["needs_relabel"] & frame["value"].isin(names)]
    if answered.empty:
        return None
    gold_rows = gold_values(project=project, version=version).items()
    gold = pd.Series({item: value for item, value in gold_rows if value in names}, dtype=object)
    estimates = labeler_estimates(answered, gold=gold if len(gold) else None, classes=names)
    return labeler_fit_store(
        project=project,
        schema_version=version,
        classes=[str(name) for name in estimates.classes],  # the schema's names, given as classes
        priors=estimates.priors.tolist(),
        confusion={labeler: matrix.tolist() for labeler, matrix in _by_user_id(estimates.confusion).items()},
        answers=_by_user_id(estimates.answers),
        typical=estimates.typical.tolist(),
        gold_items=estimates.gold_items,
    )


T = TypeVar("T")


def _by_user_id(by_labeler: Mapping[Hashable, T]) -> dict[int, T]:
    """The metrics core keys labelers by any hashable; annotations_frame's labelers are user ids."""
    return {int(cast(SupportsInt, labeler)): value for labeler, value in by_labeler.items()}


def labeler_fits_due() -> list[int]:
    """Adaptive projects whose answers grew enough since their last fit (or have none yet)."""
    fitted = LabelerFit.objects.filter(project=OuterRef("pk")).values("answers")[:1]
    projects = (
        Project.objects.filter(overlap_policy=OverlapPolicy.ADAPTIVE, label_kind__in=ADAPTIVE_KINDS)
        .annotate(fitted=Subquery(fitted))
        .values_list("id", "fitted")
    )
    due = []
    for project_id, fitted in projects:
        answers = Annotation.objects.filter(item__project_id=project_id, is_current=True).aggregate(
            n=Count("pk", filter=Q(skip_reason=""))
        )["n"]
        grown = answers - (fitted or 0)
        if answers and grown >= max(REFIT_MIN, REFIT_GROWTH * (fitted or 0)):
            due.append(project_id)
    return due


def labeler_fits_request_due() -> list[int]:
    """Beat: send a refit of every due project to the workers (after commit)."""
    refresh = task_named(FIT_REFRESH_TASK)
    due = labeler_fits_due()
    for project_id in due:
        transaction.on_commit(partial(refresh.delay, project_id))
    return due
