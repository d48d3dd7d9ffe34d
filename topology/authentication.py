"""API authentication with team tokens: `Authorization: Bearer <token>` (or `Token <token>`)."""
from rest_framework import authentication, exceptions

from core.choices import Via

from .selectors import actor_for_token, actor_for_user, token_find
from .services import token_digest, token_touch

KEYWORDS = {"bearer", "token"}


class TokenUser:
    """The request.user of a token-authenticated request: signed in, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token):
        self.token = token
        self.username = token.label

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be '<Bearer|Token> <token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token contains characters that tokens never have.") from None
        # Looked up by the SHA-256 of the presented value: see token_digest for why that is safe
        # without a constant-time comparison.
        token = token_find(digest=token_digest(raw))
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This token ({token.prefix}…) expired at {token.expires_at.isoformat(timespec='seconds')}; "
                "a maintainer of the team can create a new one on the team page.")
        token_touch(token=token)
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="switchboard"'


def api_actor(request):
    """The Actor behind an API request: its token, or the signed-in user of the session."""
    if isinstance(request.user, TokenUser):
        return actor_for_token(token=request.user.token)
    return actor_for_user(user=request.user, via=Via.API)


def ui_actor(request):
    """The Actor behind a browser request: the signed-in user, writing through the pages."""
    return actor_for_user(user=request.user, via=Via.UI)
