"""Every bad file is refused by `forecast-assets import`, with the problem named, and nothing is written."""

from __future__ import annotations

import re

import pytest

from forecast_assets import cli

from .conftest import dump
from .import_cases import IMPORT_CASES


def test_the_corpus_is_large_and_ids_are_unique():
    ids = [c.id for c in IMPORT_CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 25


@pytest.mark.parametrize("case", IMPORT_CASES, ids=[c.id for c in IMPORT_CASES])
def test_import_refuses_and_leaves_the_database_unchanged(case, db, tmp_path, monkeypatch, capsys):
    _, settings = db
    path = case.make(tmp_path)
    before = dump(settings, tmp_path / "before")
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    monkeypatch.setenv("FORECAST_ARTIFACT_DIR", str(settings.artifact_dir))
    rc = cli.main(["import", str(path), *case.args])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert err.startswith(f"import rejected, nothing written: {path}"), err  # the file is named first
    for p in case.patterns:
        assert re.search(p, err), f"{p!r} not in {err!r}"
    assert dump(settings, tmp_path / "after") == before
