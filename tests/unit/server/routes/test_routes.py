"""Every router shares the one token dependency; the domain packages know no web framework."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.routing import APIRoute

import algowatch.health
import algowatch.risk
from algowatch.server import _ingest, create_app
from algowatch.server._auth import require_token, require_url_token
from algowatch.server.routes import (
    freqtrade_router,
    health_router,
    read_router,
    report_router,
    risk_router,
)
from algowatch.settings import HealthSettings, Settings

WEB_PACKAGES = {"fastapi", "starlette", "uvicorn", "h11", "httptools"}


def _calls(dependant: object) -> list[object]:
    found = [getattr(dependant, "call", None)]
    for sub in getattr(dependant, "dependencies", []):
        found += _calls(sub)
    return found


def test_every_api_route_depends_on_the_one_token_dependency(tmp_path: Path) -> None:
    """Ingest, read, report and risk routers: each route carries ``require_token`` exactly once;
    the source routes (freqtrade's webhook) ``require_url_token`` instead, and nothing else."""
    settings = Settings(data_dir=str(tmp_path), health=HealthSettings(system_metrics=False))
    app = create_app(settings)
    routers = [_ingest.router, read_router, report_router, risk_router(app.state.risk_guard)]
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    for route in routes:
        assert _calls(route.dependant).count(require_token) == 1, route.path
        assert require_url_token not in _calls(route.dependant), route.path
    sources = [r for r in freqtrade_router().routes if isinstance(r, APIRoute)]
    for route in sources:
        calls = _calls(route.dependant)
        assert (calls.count(require_url_token), calls.count(require_token)) == (1, 0)
    # and the app serves no other /api route; each declares its schemes
    paths = app.openapi()["paths"]
    api_paths = {r.path for r in routes + sources if r.path.startswith("/api/")}
    assert {p for p in paths if p.startswith("/api/")} == api_paths
    source_paths = {r.path for r in sources}
    token_paths = {r.path for r in routes}
    for path, operations in paths.items():
        security = [op.get("security") for op in operations.values()]
        if path in source_paths:
            expected = [[{"HTTPBearer": []}, {"APIKeyQuery": []}]] * len(security)
        elif path.startswith("/api/") or path in token_paths:
            expected = [[{"HTTPBearer": []}]] * len(security)
        else:
            expected = [None]
        assert security == expected, path
    health = health_router(app.state.service.health)
    assert sorted(r.path for r in health.routes if isinstance(r, APIRoute)) == [
        "/health",
        "/live",
        "/ready",
    ]


def test_health_and_risk_import_no_web_framework() -> None:
    """Domain code returns results; the routes in ``algowatch.server.routes`` render them."""
    for package in (algowatch.health, algowatch.risk):
        for path in Path(package.__file__).parent.glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                else:
                    continue
                roots = {name.split(".")[0] for name in names}
                assert not roots & WEB_PACKAGES, f"{path.name} imports {roots & WEB_PACKAGES}"
