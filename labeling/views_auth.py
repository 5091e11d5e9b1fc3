"""Password reset with a per-address and per-client cap on mails sent.

The page a user sees is the same whether a mail went out or not (no account enumeration);
past the cap nothing is sent until the hour is over. The counts live in the cache: in Redis when
REDIS_URL is set, so every gunicorn worker counts the same; without REDIS_URL (`make run`, one
process) in that process's memory.
"""

import hashlib

from axes.helpers import get_client_ip_address
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponseRedirect

RESET_MAILS_PER_HOUR = 3  # to one address
RESET_REQUESTS_PER_HOUR = 20  # from one client address (an office behind one NAT asks for several)


def _over_cap(key: str, cap: int) -> bool:
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > cap
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        return False


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
