from django.conf import settings
from django.db import models

# Set in the session at login while the row exists, so the check on every request reads the
# session (already loaded for the user) and no table.
SESSION_KEY = "password_change_required"


class PasswordChangeRequired(models.Model):
    """An account whose password someone else chose (staff, with a one-time password on the
    People page): its owner chooses their own before anything else. The row goes when the
    password changes (``core.accounts.signals``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="password_change_required",
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labeling_passwordchangerequired"  # moved from labeling with its table

    def __str__(self) -> str:
        return f"user {self.user_id} must change their password"
