from consistency.models.predictions import Prediction
from consistency.models.reviews import Comment, Review, ReviewStatus, SchemaChange
from consistency.models.runs import AgreementRun, ItemResult, RunStatus, RunStrataCounts, RunTrigger
from consistency.models.snapshots import DatasetSnapshot, JobKind

__all__ = [
    "AgreementRun",
    "Comment",
    "DatasetSnapshot",
    "ItemResult",
    "JobKind",
    "Prediction",
    "Review",
    "ReviewStatus",
    "RunStatus",
    "RunStrataCounts",
    "RunTrigger",
    "SchemaChange",
]
