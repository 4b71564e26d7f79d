"""Bearer-token authentication and the loopback rule."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, Response, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from algowatch.errors import ConfigError
from algowatch.server._dependencies import ServiceDep, get_service
from algowatch.server._responses import problem
from algowatch.settings import ServerSettings

__all__ = ["UNAUTHORIZED", "check_bind", "is_loopback", "protected", "require_token", "token_ok"]

UNAUTHORIZED = "a valid 'Authorization: Bearer <token>' header is required"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}

_bearer = HTTPBearer(auto_error=False, description="`ALGOWATCH_TOKEN` (server.token)")


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
