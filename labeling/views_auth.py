"""Password reset with a per-address and per-client cap on mails sent.

The page a user sees is the same whether a mail went out or not (no account enumeration);
past the cap nothing is sent until the hour is over. The counts live in the shared cache
(Redis with REDIS_URL), so the caps hold across every web node; see services/shared_state.py.
"""

import hashlib

from axes.helpers import get_client_ip_address
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from labeling.services.shared_state import cap_reached

RESET_MAILS_PER_HOUR = 3  # to one address
RESET_REQUESTS_PER_HOUR = 20  # from one client address (an office behind one NAT asks for several)


def _over_cap(key: str, cap: int) -> bool:
    return cap_reached(key=key, cap=cap, window_seconds=3600)


class CappedPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
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
