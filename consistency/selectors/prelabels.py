"""Where the labeling workspace's pre-labels come from: the project's model predictions."""

from consistency.models import Prediction
from consistency.selectors.schema import class_names, schema_version_current
from labeling.answers import answer_validate
from labeling.errors import Invalid
from labeling.models import Project


def prediction_suggestion(project: Project, item_id: int) -> tuple[str, object] | None:
    """(model version, answer) of the item's prediction from the project's chosen model version
    (blank: the latest uploaded), or None. A prediction that is no longer a valid answer under
    the current schema (its class was merged or renamed since) is not suggested."""
    predictions = Prediction.objects.filter(item_id=item_id, project=project)
    if project.prelabel_model_version:
        predictions = predictions.filter(model_version=project.prelabel_model_version)
    found = predictions.order_by("-created_at", "-id").values_list("model_version", "value").first()
    if found is None:
        return None
    model_version, value = found
    names = class_names(schema_version_current(project))
    try:
        return model_version, answer_validate(label_kind=project.label_kind, class_names=names, value=value)
    except Invalid:
        return None
