"""``algowatch report`` over each SOURCE kind, and clear errors for bad ones."""

from __future__ import annotations

import gzip
import math
import re
from pathlib import Path

import pytest

from algowatch.cli import main
from algowatch.errors import DataFileError
from algowatch.journal import replay_files
from algowatch.monitor import Monitor
from algowatch.report import collect, render_report
from algowatch.settings import Settings, load_settings

from ... import report_kit

_FIGURE = re.compile(r'data-figure="([^"]+)" data-value="([^"]+)"')


def figures_of(page: str) -> dict[str, float]:
    return {name: float(value) for name, value in _FIGURE.findall(page)}


@pytest.fixture(scope="module")
def event_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return report_kit.write_events(tmp_path_factory.mktemp("events") / "events.ndjson", days=60)


@pytest.fixture(scope="module")
def replayed(event_file: Path) -> Monitor:
    """The engine's own replay of the file, with the service's default settings."""
    monitor = Monitor(Settings().monitor)
    replay_files([event_file], monitor)
    return monitor


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_event_file_report_has_the_snapshots_figures(event_file: Path, replayed: Monitor) -> None:
    """The page's engine figures are the snapshot's; its Sharpe of sessions is the engine's."""
    page = render_report(collect(str(event_file), Settings(), generated_ts=0))
    ours = figures_of(page)
    snapshot = replayed.figures().portfolio
    trading = snapshot.trading
    for name in ("trades", "win_rate", "profit_factor", "expectancy", "realized_pnl", "fees"):
        assert _same(ours[f"trading.{name}"], getattr(trading, name)), name
    execution = snapshot.execution
    for name in ("fill_rate", "mean_slippage_bps", "implementation_shortfall_bps"):
        assert _same(ours[f"execution.{name}"], getattr(execution, name)), name
    assert _same(ours["signals.accuracy"], snapshot.signals.accuracy)
    # the report's return series is the engine's closed sessions: the same ratios
    assert ours["periods"] == trading.sessions == 59
    for name in ("sharpe_ratio", "sortino_ratio", "calmar_ratio"):
        assert _same(ours[name], getattr(trading, name)), name
    assert _same(-ours["value_at_risk"], trading.value_at_risk_95)
    for name, scope in replayed.figures().strategies.items():
        assert _same(ours[f"strategy.{name}.trading.win_rate"], scope.trading.win_rate)
        assert f'data-strategy="{name}"' in page


def test_latency_percentiles_are_over_the_orders(event_file: Path, replayed: Monitor) -> None:
    """p50 and max of the acknowledgement latency are those of the engine's orders."""
    import numpy as np  # noqa: PLC0415

    ours = figures_of(render_report(collect(str(event_file), Settings(), generated_ts=0)))
    orders = replayed.order_figures(limit=10_000)
    ack = np.array(
        [(o.acknowledged_ts - o.submitted_ts) / 1e9 for o in orders if o.acknowledged_ts]
    )
    assert ours["latency.acknowledgement.p50"] == pytest.approx(float(np.median(ack)))
    assert ours["latency.acknowledgement.max"] == pytest.approx(float(ack.max()))
    assert ours["latency.acknowledgement.count"] == len(ack) == 240


def test_data_folder_report_equals_the_event_files(tmp_path: Path, event_file: Path) -> None:
    """A data folder written by `algowatch replay --journal` gives the same figures."""
    data_dir = tmp_path / "data"
    assert main(["replay", str(event_file), "--journal", str(data_dir)]) == 0
    from_folder = figures_of(render_report(collect(str(data_dir), Settings(), generated_ts=0)))
    from_file = figures_of(render_report(collect(str(event_file), Settings(), generated_ts=0)))
    assert from_folder.keys() == from_file.keys()
    for name, value in from_file.items():
        assert _same(from_folder[name], value), name


def test_gzip_event_file_is_read(tmp_path: Path, event_file: Path) -> None:
    packed = tmp_path / "events.ndjson.gz"
    packed.write_bytes(gzip.compress(event_file.read_bytes()))
    ours = figures_of(render_report(collect(str(packed), Settings(), generated_ts=0)))
    assert ours["trading.trades"] == 120


def test_returns_csv_report_has_no_trade_sections(tmp_path: Path) -> None:
    """A returns file gives the return figures and says why trades are absent."""
    path = report_kit.write_returns(tmp_path / "r.csv", n=50)
    page = render_report(collect(str(path), Settings(), generated_ts=0))
    assert figures_of(page)["periods"] == 50
    assert "Not in a returns file" in page
    assert "trading.trades" not in page


def test_equity_csv_becomes_returns(tmp_path: Path) -> None:
    """An equity column: the first level is the start, so 3 levels give 2 returns."""
    path = tmp_path / "e.csv"
    path.write_text("date,equity\n2025-01-02,100\n2025-01-03,110\n2025-01-06,99\n")
    ours = figures_of(render_report(collect(str(path), Settings(), generated_ts=0)))
    assert ours["periods"] == 2
    assert ours["total_return"] == pytest.approx(-0.01)
    assert ours["max_drawdown"] == pytest.approx(99 / 110 - 1)


def test_cli_writes_one_file(
    tmp_path: Path, event_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(event_file), "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    page = out.read_text()
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "url(" not in page


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.ndjson", "does not exist: expected a service URL"),
        (lambda d: d, "holds no journal (journal.sqlite3)"),
        (lambda d: _write(d / "x.txt", "hello"), "unknown file type '.txt'"),
        (
            lambda d: _write(d / "r.csv", "date,price2\n2025-01-02,1\n"),
            "found no returns or equity column",
        ),
        (
            lambda d: _write(d / "r.csv", "date,returns\n2025-01-02,abc\n"),
            "line 2 must be a number, received 'abc'",
        ),
        (
            lambda d: _write(d / "r.csv", "date,returns\nyesterday,0.1\n"),
            "the time column must be an ISO date",
        ),
        (lambda d: _write(d / "r.csv", "date,returns\n"), "has a header but no rows"),
        (lambda d: _write(d / "e.ndjson", '{"type":"mark"}\n'), "has 1 bad lines"),
        (lambda d: _write(d / "e.ndjson", ""), "holds no events"),
    ],
)
def test_bad_source_gives_a_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    source = make(tmp_path)
    with pytest.raises(DataFileError, match=re.escape(message)):
        collect(str(source), Settings(), generated_ts=0)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_cli_bad_source_exits_1_with_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "ftp://example.invalid/x", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: SOURCE 'ftp://example.invalid/x': only http:// and https://")
    assert not out.exists()


def test_unreachable_url_is_a_clear_error(tmp_path: Path) -> None:
    """Nothing listens on port 9 of loopback (discard): the error names the URL."""
    with pytest.raises(DataFileError, match=r"cannot read http://127\.0\.0\.1:9/api/v1/snapshot"):
        collect("http://127.0.0.1:9", Settings(), generated_ts=0)


def test_pdf_without_chromium_is_a_clear_error(
    tmp_path: Path,
    event_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no Chromium on PATH, --pdf exits 1 saying what to install; the HTML stays."""
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "r.html"
    code = main(["report", str(event_file), "--out", str(out), "--pdf", str(tmp_path / "r.pdf")])
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "Error: --pdf needs Chromium or Chrome on PATH (Debian: apt install chromium)"
    )
    assert out.read_text().startswith("<!doctype html>")
    assert not (tmp_path / "r.pdf").exists()


def test_a_bounded_equity_curve_drops_the_partial_first_session(event_file: Path) -> None:
    """A live service's curve keeps equity_curve_points: the sessions it still covers are
    the engine's last sessions, the partial first one is left out, and the page says so."""
    from algowatch.report import report_from_monitor  # noqa: PLC0415
    from algowatch.report._collect import report_monitor  # noqa: PLC0415

    full = report_monitor(Settings().monitor)
    replay_files([event_file], full)
    whole = report_from_monitor(full, Settings(), source="s", generated_ts=0).returns
    settings = load_settings(
        None,
        environ={},
        overrides={
            "monitor.equity_curve_points": 40,
            "monitor.equity_curve_interval_seconds": 3600.0,
        },
    )
    bounded = Monitor(settings.monitor)
    replay_files([event_file], bounded)
    data = report_from_monitor(bounded, settings, source="s", generated_ts=0)
    kept = data.returns.values.size
    assert 0 < kept < whole.values.size
    assert data.returns.values.tolist() == pytest.approx(whole.values[-kept:].tolist())
    assert data.returns.ts.tolist() == whole.ts[-kept:].tolist()
    page = render_report(data)
    assert f"covers only the last {kept} of the 59 closed sessions" in page
