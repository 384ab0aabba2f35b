"""A stored trained model read back: its row, its file when large, and the checks that it is the one named."""

from __future__ import annotations

from datetime import date

from forecast_assets.config import Settings
from forecast_assets.core.forecast import TrainedModel
from forecast_assets.runs import artifacts
from forecast_assets.storage.base import ForecastStore


class PipelineError(RuntimeError):
    """A run cannot proceed; the message says what to do."""


def _trained_from_row(row: dict | None, model_name: str, commodity: str, window: date, version: str) -> TrainedModel:
    if row is None:
        raise PipelineError(
            f"no trained {model_name} model {version} for {commodity} window {window}: "
            f"materialize trained_models/{model_name} partition '{commodity}|{window}' first")
    text = row.get("fitted_model_json")
    if not isinstance(text, str):
        text = artifacts.read_text(row["fitted_model_s3_path"])
    trained = TrainedModel.from_json(text)
    named = row.get("model_fingerprint")
    if isinstance(named, str) and named and trained.fingerprint != named:
        raise PipelineError(
            f"trained_models names {model_name} model {named} for {commodity} window {window}, "
            f"but {row.get('fitted_model_s3_path') or 'its fitted_model_json'} holds model {trained.fingerprint}: "
            f"materialize trained_models/{model_name} partition '{commodity}|{window}' again")
    if trained.training_cutoff_date >= window:
        raise PipelineError(f"trained model for window {window} saw data up to {trained.training_cutoff_date}")
    return trained


def load_trained(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                 window: date) -> TrainedModel:
    row = store.read_trained_model(commodity, model_name, settings.model_version, window)
    return _trained_from_row(row, model_name, commodity, window, settings.model_version)


def load_trained_windows(store: ForecastStore, settings: Settings, model_name: str, commodity: str,
                         windows: list[date]) -> dict[date, TrainedModel]:
    rows = store.read_trained_models(commodity, model_name, settings.model_version, windows)
    return trained_from_rows(rows, settings, model_name, commodity, windows)


def trained_from_rows(rows: dict, settings: Settings, model_name: str, commodity: str,
                      windows: list[date]) -> dict[date, TrainedModel]:
    """The models of `windows` from rows read with store.read_trained_models (parsed and checked here, so
    a caller can read them with other reads on one connection and parse after letting go of the file)."""
    return {w: _trained_from_row(rows.get(w), model_name, commodity, w, settings.model_version) for w in windows}
