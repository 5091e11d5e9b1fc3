"""A one-time password is changed before anything else."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from core.accounts.models import SESSION_KEY
from core.api.errors import error_body

# What a user who must change their password can still reach: the change itself, logging out,
# and what the pages load.
PASSWORD_CHANGE_OPEN = ("/password-change/", "/logout/", "/login/", "/static/", "/healthz", "/readyz")


class PasswordChangeRequiredMiddleware:
    """A session whose user got a one-time password (staff created the account on the People
    page) reaches nothing but the password change: pages redirect there, the API answers 403
    ``password_change_required``. Token requests are not sessions and pass (a pipeline member
    has no password); a token header keeps DRF from falling back to the session, so it can't
    be used to slip past this check with a bogus token."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: reading the session costs a query where nothing else reads it.
        if request.path.startswith(PASSWORD_CHANGE_OPEN) or not request.session.get(SESSION_KEY):
            return self.get_response(request)
        if request.path.startswith("/api/"):
            scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0]
            if scheme.lower() == "token":
                return self.get_response(request)
            message = (
                "Your account has a one-time password: choose your own at /password-change/ "
                "before using the API with this session."
            )
            return JsonResponse(error_body("password_change_required", message), status=403)
        return redirect("password_change")
