"""HTTP middleware of our own."""

# No inline script anywhere: the console is ES modules from /static/. Inline
# styles are refused too; images may come from our own media URLs and data: URLs
# (previews of an attachment before it is sent).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)

ADMIN_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'self'"
)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header to every HTML response.

    The admin needs inline styles and scripts of its own, so it gets a policy
    that still forbids any other origin.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            if request.path.startswith("/admin/"):
                policy = ADMIN_CONTENT_SECURITY_POLICY
            else:
                policy = CONTENT_SECURITY_POLICY
            response["Content-Security-Policy"] = policy
        return response

