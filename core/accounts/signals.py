"""API tokens die with the password that went with them, and so does the obligation to change
a one-time password.

A signal because passwords change in places Concord does not own (Django's password views,
the admin, `changepassword`): comparing the stored hash is the one place all of them meet.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.db.models import Model
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from rest_framework.authtoken.models import Token

from core.accounts.models import SESSION_KEY, PasswordChangeRequired

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="concord_revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender: type[Model], instance: AbstractBaseUser, **kwargs: Any) -> None:
    if not instance.pk:
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()
        PasswordChangeRequired.objects.filter(user_id=instance.pk).delete()


@receiver(user_logged_in, dispatch_uid="concord_password_change_required_at_login")
def flag_one_time_password_at_login(
    sender: type[Model], request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any
) -> None:
    """The session remembers that its user must change their password first (see
    ``PasswordChangeRequiredMiddleware``)."""
    if request is not None and PasswordChangeRequired.objects.filter(user_id=user.pk).exists():
        request.session[SESSION_KEY] = True
