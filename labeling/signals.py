"""API tokens die with the password that went with them.

A signal because passwords change in places Concord does not own (Django's password views,
the admin, `changepassword`): comparing the stored hash is the one place all of them meet.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

User = get_user_model()


@receiver(pre_save, sender=User, dispatch_uid="concord_revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender, instance, **kwargs):
    if not instance.pk:
        return
    old = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()
