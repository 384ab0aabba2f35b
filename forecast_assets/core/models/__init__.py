"""The model registry: adding a model is one module and one line here."""

from __future__ import annotations

from forecast_assets.core.models.base import ForecastModel, ModelError
from forecast_assets.core.models.naive import NaiveModel
from forecast_assets.core.models.sarimax import SarimaxAutoWeather
from forecast_assets.core.models.xgboost_direct import XGBoostModel

REGISTRY: dict[str, type] = {m.name: m for m in (NaiveModel, XGBoostModel, SarimaxAutoWeather)}


def get_model(name: str) -> ForecastModel:
    try:
        return REGISTRY[name]()
    except KeyError:
        raise ModelError(f"unknown model {name!r}; registered: {', '.join(REGISTRY)}") from None


__all__ = ["REGISTRY", "ForecastModel", "ModelError", "get_model"]
