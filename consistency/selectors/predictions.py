"""Model predictions as the metrics core reads them."""

import pandas as pd

from consistency.models import Prediction
from consistency.selectors.labels import UNKNOWN_VERSION, decision_mappings
from consistency.selectors.schema import class_names
from labeling.models import Project
from labeling.selectors.schema_versions import schema_version_current


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
    current = schema_version_current(project=project, with_classes=True)
    mappings = (
        decision_mappings(project=project, version=current) if list(classes) == class_names(current) else {}
    )
    table = {}
    for item, probabilities, version_id in rows.values_list(
        "item_id", "probabilities", "schema_version_id"
    ).iterator(chunk_size=20_000):
        # Probabilities of an older version read under the current one: merged classes add up,
        # a split class's share has nowhere to go and the row is left out.
        mapping = mappings.get(version_id or UNKNOWN_VERSION, {})
        assert probabilities is not None  # probabilities__isnull=False
        mapped: dict = {}
        for name, p in probabilities.items():
            new = mapping.get(name, name)
            if new is None:
                mapped = {}
                break
            mapped[new] = mapped.get(new, 0.0) + p
        if mapped and set(mapped) <= known:
            table[item] = mapped
    frame = pd.DataFrame.from_dict(table, orient="index", columns=classes).fillna(0.0)
    return latest, frame
