"""``/docs`` and ``/redoc`` work offline: every asset they load is served by the app."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from algowatch.server._app import DOCS_ASSETS_URL

# every URL a page may load: src/href attributes and the strings the inline script passes on
_URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def _page_urls(html: str) -> list[str]:
    return [a or b for a, b in _URLS.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_the_service_itself(api: TestClient, page: str) -> None:
    response = api.get(page)
    assert response.status_code == 200
    html = response.text
    urls = _page_urls(html)
    assert urls, html
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme, f"{page} loads {url} from elsewhere"
        assert not parts.netloc, f"{page} loads {url} from elsewhere"
    # no absolute URL anywhere in the page (a CDN name in a script string would show here)
    assert "http://" not in html
    assert "https://" not in html
    # and every asset it names is served, with its media type
    scripts = [u for u in urls if u.startswith(DOCS_ASSETS_URL)]
    assert scripts, html
    for url in scripts:
        asset = api.get(url)
        assert asset.status_code == 200, url
        if url.endswith(".js"):
            assert asset.headers["content-type"].startswith(
                ("text/javascript", "application/javascript")
            )
            assert len(asset.content) > 100_000  # the real bundle, not a placeholder
        elif url.endswith(".css"):
            assert asset.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_policy_names_no_other_host(api: TestClient, page: str) -> None:
    policy = api.get(page).headers["content-security-policy"]
    assert "http" not in policy
    assert "script-src 'self' 'unsafe-inline'" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_docs_assets_are_not_in_the_api_schema(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(DOCS_ASSETS_URL)]
