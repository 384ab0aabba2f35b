"""The CLI reads an existing database only, and prints tables."""

import pytest

from forecast_assets import cli


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Another folder, with no FORECAST_* pointing anywhere: the default ./data/forecast.duckdb."""
    for k in ("FORECAST_DUCKDB_PATH", "FORECAST_DATA_DIR"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv", [["summary"], ["report"], ["migrate-horizon"]])
def test_a_missing_database_is_refused_not_created(elsewhere, capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"no database at {elsewhere / 'data' / 'forecast.duckdb'}" in err and "make demo" in err
    assert not (elsewhere / "data").exists()


def test_summary_prints_tables(store, settings, monkeypatch, capsys):
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    assert cli.main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "DataFrame" not in out and "Empty" not in out
    lines = out.splitlines()
    i = lines.index("commodity.silver.unified_data:")
    assert lines[i + 1].split()[:2] == ["commodity", "n_rows"] and set(lines[i + 2]) <= {"-", " "}
    assert lines[i + 3].startswith("Coffee")
    assert "commodity.forecast.trained_models:\n(empty)" in out


def test_current_window_is_the_start_of_the_window_containing_today(capsys):
    from datetime import date, timedelta

    assert cli.main(["current-window"]) == 0
    w = date.fromisoformat(capsys.readouterr().out.strip())
    assert (w.month, w.day) in ((1, 1), (7, 1))
    assert w <= date.today() + timedelta(days=1) and (date.today() - w).days < 186  # today in Los Angeles or UTC
