from labeling.models.annotations import Annotation, Assignment, AssignmentStatus, PrelabelExposure
from labeling.models.choices import JobKind, SkipReason
from labeling.models.estimates import LabelerEstimate, LabelerFit
from labeling.models.items import Item
from labeling.models.projects import (
    ConsensusMethod,
    DataType,
    LabelKind,
    OverlapPolicy,
    Project,
    ProjectMembership,
    Role,
)
from labeling.models.schemas import LabelClass, LabelSchemaVersion

__all__ = [
    "Annotation",
    "Assignment",
    "AssignmentStatus",
    "ConsensusMethod",
    "DataType",
    "Item",
    "JobKind",
    "LabelClass",
    "LabelKind",
    "LabelSchemaVersion",
    "LabelerEstimate",
    "LabelerFit",
    "OverlapPolicy",
    "PrelabelExposure",
    "Project",
    "ProjectMembership",
    "Role",
    "SkipReason",
]
