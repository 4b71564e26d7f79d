"""The routes' dependency on the running service.

Every route that needs the service declares it as a parameter, ``service: ServiceDep``
(FastAPI's ``Depends(get_service)``), rather than reaching into ``request.app.state``;
a test can swap it with ``app.dependency_overrides[get_service]``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from algowatch.server._service import Service

__all__ = ["ServiceDep", "get_service"]


async def get_service(request: Request) -> Service:
    """Return the :class:`~algowatch.server._service.Service` of the app serving ``request``.

    A coroutine, so FastAPI calls it on the event loop instead of a worker thread.
    """
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
