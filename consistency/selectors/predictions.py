"""Model predictions as the metrics core reads them."""

import pandas as pd

from consistency.models import Prediction
from labeling.models import Project


def probabilities_latest(*, project: Project, classes: list[str]) -> tuple[str, pd.DataFrame] | None:
    """(model version, items × classes probabilities) of the most recently uploaded model
    version that has probabilities; None when there is none. Classes a row omits are 0;
    rows naming classes outside ``classes`` (an older schema) are left out."""
    latest = (
        Prediction.objects.filter(project=project, probabilities__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("model_version", flat=True)
        .first()
    )
    if latest is None:
        return None
    rows = Prediction.objects.filter(project=project, model_version=latest, probabilities__isnull=False)
    known = set(classes)
    table = {
        item: probabilities
        for item, probabilities in rows.values_list("item_id", "probabilities").iterator(chunk_size=20_000)
        if set(probabilities) <= known
    }
    frame = pd.DataFrame.from_dict(table, orient="index", columns=classes).fillna(0.0)
    return latest, frame
