"""Password reset with a per-address and per-client cap on mails sent; password change that
also ends a one-time password.

The page a user sees is the same whether a mail went out or not (no account enumeration);
past the cap nothing is sent until the hour is over. The counts live in the shared cache
(Redis with REDIS_URL), so the caps hold across every web node; see services/shared_state.py.
"""

import hashlib
from typing import Any

from axes.helpers import get_client_ip_address
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm
from django.http import HttpResponse, HttpResponseRedirect

from core.accounts.models import SESSION_KEY
from core.shared_state import cap_reached

RESET_MAILS_PER_HOUR = 3  # to one address
RESET_REQUESTS_PER_HOUR = 20  # from one client address (an office behind one NAT asks for several)


def _over_cap(key: str, cap: int) -> bool:
    return cap_reached(key=key, cap=cap, window_seconds=3600)


class CappedPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        address = get_client_ip_address(self.request) or ""  # as for login: TRUSTED_PROXY_COUNT
        over = [  # count both, whatever the first says
            _over_cap(
                "password-reset:email:" + hashlib.sha256(email.encode()).hexdigest(), RESET_MAILS_PER_HOUR
            ),
            _over_cap(
                "password-reset:client:" + hashlib.sha256(address.encode()).hexdigest(),
                RESET_REQUESTS_PER_HOUR,
            ),
        ]
        if any(over):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class NewPasswordChangeForm(PasswordChangeForm):
    """The new password must differ from the current one: for a one-time password, the one
    staff saw."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new = cleaned.get("new_password1")
        if new and self.user.check_password(new):
            raise forms.ValidationError(
                "Choose a new password, not the current one.", code="password_unchanged"
            )
        return cleaned


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (old password, new twice). A session held by a one-time
    password is sent here by ``PasswordChangeRequiredMiddleware`` until it is done."""

    form_class = NewPasswordChangeForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "required": self.request.session.get(SESSION_KEY)}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)  # saving the user deletes its PasswordChangeRequired
        self.request.session.pop(SESSION_KEY, None)
        return response
