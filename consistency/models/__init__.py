from consistency.models.predictions import Prediction
from consistency.models.runs import AgreementRun, ItemResult, RunStatus, RunTrigger
from consistency.models.snapshots import DatasetSnapshot

__all__ = ["AgreementRun", "DatasetSnapshot", "ItemResult", "Prediction", "RunStatus", "RunTrigger"]
