"""Where the labeling workspace's pre-labels come from: the project's model predictions; and
the Labelers page's sentence on them. Imported at start-up (ConsistencyConfig.ready): keep it
free of pandas and numpy, which every process would otherwise load before its first request."""

from consistency.models import Prediction
from consistency.report import Prelabels
from consistency.selectors.schema import class_names
from core.errors import Invalid
from labeling.answers import answer_validate
from labeling.models import Project
from labeling.selectors.schema_versions import schema_version_current


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
    version = schema_version_current(project=project, with_classes=True)
    names = class_names(version)
    try:
        return model_version, answer_validate(label_kind=project.label_kind, class_names=names, value=value)
    except Invalid:
        return None


def prelabel_verdict(section: Prelabels) -> str:
    """One sentence on the report's pre-label section: do people anchor on the model?"""
    estimate, low, high = section["difference"]["with_model"]
    held = section["held_out"]["n"]
    if estimate is None or low is None or high is None:
        return "Not enough answers in both groups yet to compare them."
    points = f"{abs(estimate) * 100:.0f} percentage points"
    if low > 0:
        return (
            f"People agree with the model {points} more when they see its suggestion, beyond chance: "
            "they anchor on it. Its mistakes become labels; review the accepted suggestions or raise "
            "the held-out share."
        )
    if high < 0:
        return f"People agree with the model {points} less when they see its suggestion, beyond chance."
    return (
        f"No measurable anchoring: the difference ({points}) is within the noise of {held} held-out "
        "answers; the interval narrows as more come in."
    )
