"""Security headers on every response, including a Content-Security-Policy that forbids
inline script (every page loads its JavaScript from static files).

Hand-written rather than django-csp: one fixed policy for the whole app needs no per-view
configuration, and Django 5.2 has no built-in CSP yet.
"""

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


def content_security_policy() -> str:
    """The policy, with the bucket's origin allowed for images, audio and the fetches of media
    and waveforms when presigned URLs point there."""
    from labeling.storage import media_origin

    origin = media_origin()
    if not origin:
        return CONTENT_SECURITY_POLICY
    return "; ".join(
        f"{part} {origin}" if part.split(" ")[0] in {"img-src", "media-src", "connect-src"} else part
        for part in CONTENT_SECURITY_POLICY.split("; ")
    )


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy())
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
