"""Pre-labels: a model's answer shown to the labeler as a pre-filled suggestion.

When a manager turns pre-labels on, an item that has a model prediction is shown with it
(accept with Enter, or correct it), except for a held-out share of items shown without it. The
split is a fixed hash of (project, item, labeler), so a reload shows the same thing, and what
was shown is written once per assignment (:class:`PrelabelExposure`): comparing the answers
given with and without the suggestion measures anchoring on the model instead of guessing it.

Predictions live in the consistency app, which depends on this one; it registers where the
suggestions come from at start-up (``ConsistencyConfig.ready``), so labeling imports nothing
from it.
"""

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction

from labeling.models import Assignment, PrelabelExposure, Project

# (project, item id) → (model version, answer) or None when the item has no usable prediction.
SuggestionSource = Callable[[Project, int], tuple[str, object] | None]
_source: SuggestionSource | None = None


def prelabel_source_register(source: SuggestionSource | None) -> None:
    global _source  # one process-wide source, set once at start-up
    _source = source


def prelabel_held_out(*, project_id: int, item_id: int, labeler_id: int, share: float) -> bool:
    """Whether this labeler sees this item without the suggestion: a uniform draw in [0, 1)
    from a hash of the three ids, below ``share``."""
    digest = hashlib.blake2b(f"{project_id}:{item_id}:{labeler_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


def prelabel_for(*, project: Project, assignment: Assignment) -> dict | None:
    """The suggestion to show with the assignment's item (``{"value", "model_version"}``), or
    None: pre-labels off, no prediction, or held out. Records the exposure the first time."""
    if not project.prelabels or _source is None:
        return None
    seen = PrelabelExposure.objects.filter(assignment_id=assignment.id).first()
    if seen is None:
        found = _source(project, assignment.item_id)
        if found is None:
            return None
        model_version, value = found
        held_out = prelabel_held_out(
            project_id=project.id,
            item_id=assignment.item_id,
            labeler_id=assignment.labeler_id,
            share=project.prelabel_holdout,
        )
        try:
            with transaction.atomic():
                seen = PrelabelExposure.objects.create(
                    assignment_id=assignment.id,
                    shown=not held_out,
                    model_version=model_version,
                    suggestion=value,
                )
        except IntegrityError:  # the same labeler's other tab recorded it first
            seen = PrelabelExposure.objects.get(assignment_id=assignment.id)
    if not seen.shown:
        return None
    return {"value": seen.suggestion, "model_version": seen.model_version}
