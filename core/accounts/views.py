"""The account page: who you are, your projects, your password and your API token."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.accounts.projects import account_projects_of
from core.accounts.services import api_token_created, api_token_revoke, api_token_rotate


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    context = {
        "projects": account_projects_of(user=request.user, order="name"),
        "token_created": api_token_created(user=request.user),
        # A new key is shown once, on the page that made it (kept in the session only until then).
        "new_token": request.session.pop("new_api_token", None),
    }
    return render(request, "core/account.html", context)


@require_POST
@login_required
def account_token_rotate(request: HttpRequest) -> HttpResponse:
    request.session["new_api_token"] = api_token_rotate(user=request.user)
    messages.success(request, "A new API token was made; the old one no longer works.")
    return redirect("account")


@require_POST
@login_required
def account_token_revoke(request: HttpRequest) -> HttpResponse:
    if api_token_revoke(user=request.user):
        messages.success(request, "Your API token was revoked: scripts using it are refused from now on.")
    return redirect("account")
