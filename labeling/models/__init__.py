from labeling.models.accounts import PasswordChangeRequired
from labeling.models.annotations import Annotation, Assignment, AssignmentStatus, PrelabelExposure
from labeling.models.audit import AuditEvent
from labeling.models.choices import SkipReason
from labeling.models.estimates import LabelerEstimate, LabelerFit
from labeling.models.items import Item
from labeling.models.jobs import Job, JobKind, JobStatus
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
    "AuditEvent",
    "ConsensusMethod",
    "DataType",
    "Item",
    "Job",
    "JobKind",
    "JobStatus",
    "LabelClass",
    "LabelKind",
    "LabelSchemaVersion",
    "LabelerEstimate",
    "LabelerFit",
    "OverlapPolicy",
    "PasswordChangeRequired",
    "PrelabelExposure",
    "Project",
    "ProjectMembership",
    "Role",
    "SkipReason",
]
