"""Pages of core: probes, metrics, login, password reset and change, the account page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core.accounts import views as account_views
from core.accounts.passwords import CappedPasswordResetView, PasswordChangeView
from core.http import health
from core.http.metrics import metrics

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset answers the same for known and unknown addresses (Django's views do not
    # say whether an account exists), sends at most 3 mails an hour per address and client; the
    # link is single-use and expires (PASSWORD_RESET_TIMEOUT). A new password revokes API tokens.
    path("password-reset/", CappedPasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password-change/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "password-change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("account/", account_views.account, name="account"),
    path("account/token/", account_views.account_token_rotate, name="account-token-rotate"),
    path("account/token/revoke/", account_views.account_token_revoke, name="account-token-revoke"),
]
