"""Security headers on every response, including a Content-Security-Policy that forbids
inline script (every page loads its JavaScript from static files).

Hand-written rather than django-csp: one fixed policy for the whole app needs no per-view
configuration, and Django 5.2 has no built-in CSP yet.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Inline style attributes carry computed sizes (bars, progress); no inline script.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


# Functions giving an origin that media may load from ('' for none), registered by the apps
# that serve media (labeling: the bucket presigned URLs point at).
_ORIGINS: list[Callable[[], str]] = []


def csp_origin_register(origin: Callable[[], str]) -> None:
    """Allow images, audio and fetches from the origin ``origin()`` names (AppConfig.ready())."""
    if origin not in _ORIGINS:
        _ORIGINS.append(origin)


def content_security_policy() -> str:
    """The policy, with the registered media origins (the bucket's, when presigned URLs point
    there) allowed for images, audio and the fetches of media and waveforms."""
    origins = " ".join(o for o in (origin() for origin in _ORIGINS) if o)
    if not origins:
        return CONTENT_SECURITY_POLICY
    return "; ".join(
        f"{part} {origins}" if part.split(" ")[0] in {"img-src", "media-src", "connect-src"} else part
        for part in CONTENT_SECURITY_POLICY.split("; ")
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
