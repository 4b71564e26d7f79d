"""Bearer-token authentication and the loopback rule."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from algowatch.errors import ConfigError
from algowatch.server._responses import problem
from algowatch.settings import ServerSettings

__all__ = ["check_bind", "is_loopback", "protected", "require_token", "token_ok"]

_UNAUTHORIZED = "a valid 'Authorization: Bearer <token>' header is required"

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


def token_ok(request: Request, authorization: str | None) -> bool:
    """Return whether ``authorization`` carries the configured token (or none is set)."""
    expected: str | None = request.app.state.service.settings.server.token
    if not expected:
        return True
    scheme, _, received = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        received.strip().encode(), expected.encode()
    )


def protected(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a plain Starlette endpoint (``/metrics``) with the bearer-token check."""

    async def guarded(request: Request) -> Response:
        if not token_ok(request, request.headers.get("authorization")):
            return problem(401, _UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        return await endpoint(request)

    return guarded


def require_token(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008 - FastAPI idiom
) -> None:
    """Reject the request with 401 unless it carries the configured bearer token.

    Without a configured token (only allowed on loopback) every request passes.
    The comparison takes constant time.
    """
    header = None if credentials is None else f"Bearer {credentials.credentials}"
    if not token_ok(request, header):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )
