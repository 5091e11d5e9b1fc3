"""The models ``core`` owns (Django loads them from here); each lives beside its services."""

from core.accounts.models import PasswordChangeRequired
from core.audit.models import AuditEvent
from core.jobs.models import Job

__all__ = ["AuditEvent", "Job", "PasswordChangeRequired"]
