"""Bearer-token authentication and the loopback rule.

Every route that needs the token checks it here: :func:`require_token` (the header) for
``/api/v1``, :func:`require_url_token` (the header or ``?token=``) for the source routes
whose senders cannot set a header (freqtrade's webhook), :func:`protected` for
``/metrics``. One comparison, :func:`_accepts`, decides for all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, Response, Security, status
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from algowatch.errors import ConfigError
from algowatch.server._dependencies import ServiceDep, get_service
from algowatch.server._responses import problem
from algowatch.settings import ServerSettings

__all__ = [
    "UNAUTHORIZED",
    "UNAUTHORIZED_URL",
    "check_bind",
    "is_loopback",
    "protected",
    "require_token",
    "require_url_token",
    "token_ok",
]

UNAUTHORIZED = "a valid 'Authorization: Bearer <token>' header is required"
UNAUTHORIZED_URL = (
    "a valid 'Authorization: Bearer <token>' header or '?token=<token>' query parameter is required"
)
_CHALLENGE = {"WWW-Authenticate": "Bearer"}

_bearer = HTTPBearer(auto_error=False, description="`ALGOWATCH_TOKEN` (server.token)")
# the token in the URL, for senders that cannot set a header; the logs redact `token=`
_url_token = APIKeyQuery(
    name="token",
    auto_error=False,
    description="`ALGOWATCH_TOKEN` (server.token), for senders that cannot set a header",
)


def is_loopback(host: str) -> bool:
    """Return whether ``host`` only accepts connections from this machine.

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: ServerSettings) -> None:
    """Refuse a non-loopback bind address without a token.

    Raises
    ------
    ConfigError
        When ``server.host`` is reachable from other machines and ``server.token`` is unset.

    Examples
    --------
    >>> check_bind(ServerSettings(host="0.0.0.0"))
    Traceback (most recent call last):
    ...
    algowatch.errors.ConfigError: server.host '0.0.0.0' accepts connections from other machines, \
so server.token is required: set ALGOWATCH_TOKEN or bind 127.0.0.1
    """
    if not is_loopback(settings.host) and not settings.token:
        msg = (
            f"server.host {settings.host!r} accepts connections from other machines, "
            "so server.token is required: set ALGOWATCH_TOKEN or bind 127.0.0.1"
        )
        raise ConfigError(msg)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


async def token_ok(request: Request) -> bool:
    """Return whether ``request`` carries the configured bearer token (or none is set).

    The one parser of ``Authorization`` is FastAPI's :class:`~fastapi.security.HTTPBearer`
    (the scheme is case-insensitive, RFC 6750); the comparison takes constant time
    (equal-length digests compared with :func:`hmac.compare_digest`).
    """
    service = await get_service(request)
    return _accepts(service.settings.server.token, await _bearer(request))


def _accepts(expected: str | None, credentials: HTTPAuthorizationCredentials | None) -> bool:
    if not expected:
        return True
    if credentials is None:
        return False
    return hmac.compare_digest(_digest(credentials.credentials.strip()), _digest(expected))


def protected(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a plain Starlette endpoint (``/metrics``) with the bearer-token check."""

    async def guarded(request: Request) -> Response:
        if not await token_ok(request):
            return problem(401, UNAUTHORIZED, headers=_CHALLENGE)
        return await endpoint(request)

    return guarded


async def require_token(
    service: ServiceDep,
    credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008 - FastAPI idiom
) -> None:
    """Reject the request with 401 unless it carries the configured bearer token.

    The one token dependency of every ``/api/v1`` router. Without a configured token
    (only allowed on loopback) every request passes.
    """
    if not _accepts(service.settings.server.token, credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED, headers=_CHALLENGE)


async def require_url_token(
    service: ServiceDep,
    credentials: HTTPAuthorizationCredentials | None = Security(_bearer),  # noqa: B008 - FastAPI idiom
    url_token: str | None = Security(_url_token),
) -> None:
    """Reject the request with 401 unless it carries the token in the header or the URL.

    For the source routes only (``POST /api/v1/sources/freqtrade``): their senders cannot
    set an ``Authorization`` header, so ``?token=<token>`` is accepted too. The header wins
    when both are sent. The logs never show the token: ``token=`` values in URLs are
    redacted (:func:`algowatch.logging.redact`).
    """
    if credentials is None and url_token is not None:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=url_token)
    if not _accepts(service.settings.server.token, credentials):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail=UNAUTHORIZED_URL, headers=_CHALLENGE
        )
