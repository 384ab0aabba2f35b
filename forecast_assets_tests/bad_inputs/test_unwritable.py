"""An unwritable database or model artifact folder: a clear error naming the path, nothing written.

As root, chmod does not stop a write, so the file or folder is made immutable (chattr +i) instead;
as another user, chmod a-w. Either way the kernel refuses the write, as on a read-only mount.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import dagster as dg
import pytest

from forecast_assets import cli
from forecast_assets.defs.failures import explained_failures
from forecast_assets.runs import training
from forecast_assets.runs.artifacts import ArtifactDirNotWritableError
from forecast_assets.storage.duckdb_store import DatabaseNotWritableError, DuckDBStore

from .conftest import NEXT_WINDOW, dump
from .files import base_rows, write_csv

ROOT = os.geteuid() == 0


@contextlib.contextmanager
def read_only(path):
    """Make path unwritable for this process (root included) for the duration."""
    if ROOT:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
            pytest.skip("running as root and chattr +i is not available here: nothing can be made read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)


def _env(monkeypatch, settings):
    monkeypatch.setenv("FORECAST_DUCKDB_PATH", str(settings.duckdb_path))
    monkeypatch.setenv("FORECAST_ARTIFACT_DIR", str(settings.artifact_dir))


@pytest.mark.parametrize("what", ["file", "folder"])
def test_import_into_an_unwritable_database_is_one_line_and_writes_nothing(what, db, tmp_path, monkeypatch, capsys):
    _, settings = db
    _env(monkeypatch, settings)
    path = write_csv(tmp_path / "new.csv", base_rows(commodity="Cocoa"))
    before = dump(settings, tmp_path / "before")
    target = settings.duckdb_path if what == "file" else settings.duckdb_path.parent
    with read_only(target):
        rc = cli.main(["import", str(path)])
        out, err = capsys.readouterr()
        assert rc == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"import rejected, nothing written: cannot write the database {settings.duckdb_path}")
        assert ("the file is read-only" if what == "file" else f"its folder {target} is read-only") in err
        assert "FORECAST_DUCKDB_PATH" in err
        rc = cli.main(["summary"])  # reading still works: the file is opened read-only
        out, err = capsys.readouterr()
        assert rc == 0 and err == "" and "(not writable: opened read-only)" in out and "Coffee" in out
        rc = cli.main(["init"])
        out, err = capsys.readouterr()
        assert rc == 2 and err.startswith("error: init: cannot write the database") and err.count("\n") == 1
    assert dump(settings, tmp_path / "after") == before


def test_a_run_against_an_unwritable_database_fails_naming_it(db, tmp_path):
    store, settings = db
    before = dump(settings, tmp_path / "before")
    with read_only(settings.duckdb_path):
        with pytest.raises(dg.Failure) as info, explained_failures():
            training.train_windows(store, settings, "naive", "Coffee", [NEXT_WINDOW], "test")
    assert str(settings.duckdb_path) in info.value.description
    assert info.value.description.startswith("not writable: DatabaseNotWritableError")
    assert dump(settings, tmp_path / "after") == before


def test_summary_of_a_read_only_store(db):
    store, settings = db
    with read_only(settings.duckdb_path):
        ro = DuckDBStore(settings.duckdb_path, read_only=True)
        assert "Coffee" in ro.unified_summary()["commodity"].tolist()
        with pytest.raises(DatabaseNotWritableError, match="the file is read-only"):
            store.unified_version()


def test_training_with_an_unwritable_artifact_folder_fails_first_naming_it(db, tmp_path):
    store, settings = db
    settings.artifact_dir.mkdir(parents=True, exist_ok=True)
    before = dump(settings, tmp_path / "before")
    with read_only(settings.artifact_dir):
        with pytest.raises(ArtifactDirNotWritableError,
                           match=rf"the model artifact folder {settings.artifact_dir} cannot be used: .* cannot be "
                                 rf"written; nothing was written.*FORECAST_ARTIFACT_DIR"):
            training.train_windows(store, settings, "naive", "Coffee", [NEXT_WINDOW], "test")
        with pytest.raises(dg.Failure) as info, explained_failures():  # as a Dagster step shows it
            training.train_windows(store, settings, "naive", "Coffee", [NEXT_WINDOW], "test")
        assert info.value.description.startswith("not writable: ArtifactDirNotWritableError")
        assert str(settings.artifact_dir) in info.value.description
    assert dump(settings, tmp_path / "after") == before
