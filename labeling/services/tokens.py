"""API tokens: one per user, shown once when made, revocable by its owner at any time.

A password change or reset also deletes the user's token (labeling.signals).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser) -> str:
    """Replace the user's token with a new one (the old key stops working at once)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


def api_token_revoke(*, user: AbstractBaseUser) -> bool:
    """Delete the user's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return bool(deleted)


def api_token_created(*, user: AbstractBaseUser):
    """When the user's current token was made, or None."""
    return Token.objects.filter(user=user).values_list("created", flat=True).first()
