"""A training run killed after writing a model file but before its row, or in the middle of writing
the file, leaves the stored model whole and in use; the next training clears what the kill left.

Models over the inline limit (XGBoost's are ~2.7 MB) live in files under FORECAST_ARTIFACT_DIR;
here the limit is lowered so that naive's 16 kB models take that path. The kills are real SIGKILLs
of a child process at the chosen point.
"""

from __future__ import annotations

from datetime import date

import pytest

from forecast_assets.runs import artifacts, loading, training
from forecast_assets.core.data import daily_series
from forecast_assets.core.fitted import fingerprint
from forecast_assets.core.forecast import train
from forecast_assets_tests.reliability import children, runs
from forecast_assets_tests.reliability.inputs import revised

pytestmark = pytest.mark.crash

W = date(2025, 1, 1)
LIMIT = 1_000


def _files(settings):
    return sorted(p.name for p in (settings.artifact_dir / "v1.0" / "Coffee" / "naive").iterdir())


@pytest.mark.parametrize("when", ["before_row", "mid_file"])
def test_a_training_killed_while_saving_a_model_file_leaves_the_stored_model_in_use(
        when, store, settings, sample_unified, monkeypatch):
    monkeypatch.setattr(artifacts, "INLINE_LIMIT", LIMIT)
    training.train_windows(store, settings, "naive", "Coffee", [W], created_by="first")
    old = store.read_trained_model("Coffee", "naive", "v1.0", W)
    assert old["fitted_model_json"] is None and old["fitted_model_s3_path"]

    store.replace_unified(revised(sample_unified))  # retraining now gives another model
    p = runs.start_process(children.train_and_die, str(settings.duckdb_path), str(settings.artifact_dir), W, when,
                           LIMIT)
    p.join(300)
    assert p.exitcode == -9

    # The row and the file it names are the old model, whole; forecasts use it.
    row = store.read_trained_model("Coffee", "naive", "v1.0", W)
    assert (row["model_fingerprint"], row["fitted_model_s3_path"]) == (old["model_fingerprint"],
                                                                       old["fitted_model_s3_path"])
    with open(row["fitted_model_s3_path"], encoding="utf-8") as f:
        assert fingerprint(f.read()) == old["model_fingerprint"]
    assert loading.load_trained(store, settings, "naive", "Coffee", W).fingerprint == old["model_fingerprint"]
    assert len(_files(settings)) == 2  # the old model and what the kill left (new model or half a temporary)

    # Training again writes the new model and clears the rest.
    training.train_windows(store, settings, "naive", "Coffee", [W], created_by="again")
    new = store.read_trained_model("Coffee", "naive", "v1.0", W)
    assert new["model_fingerprint"] != old["model_fingerprint"]
    assert _files(settings) == [f"{W}-{new['model_fingerprint']}.json"]
    assert loading.load_trained(store, settings, "naive", "Coffee", W).fingerprint == new["model_fingerprint"]


def test_a_row_whose_file_holds_another_model_is_refused(store, settings, sample_unified, monkeypatch):
    monkeypatch.setattr(artifacts, "INLINE_LIMIT", LIMIT)
    training.train_windows(store, settings, "naive", "Coffee", [W], created_by="first")
    row = store.read_trained_model("Coffee", "naive", "v1.0", W)
    store.replace_unified(revised(sample_unified))
    other = train("naive", "Coffee", daily_series(store.read_unified("Coffee"), "Coffee"), W, 14)  # another model
    with open(row["fitted_model_s3_path"], "w", encoding="utf-8") as f:
        f.write(other.text)
    with pytest.raises(loading.PipelineError, match=r"names naive model \w+ for Coffee window 2025-01-01, but .* "
                                                     r"holds model \w+: materialize trained_models/naive"):
        loading.load_trained(store, settings, "naive", "Coffee", W)
