"""The model registry: adding a model is one module and one line here.

Entries name the class by import path and are imported on first use, so
loading the code location (UI, schedules, sensors) does not pay for
xgboost, statsmodels and pmdarima until a model actually runs.
"""

from __future__ import annotations

import importlib
from functools import cache

from forecast_assets.core.models.base import ForecastModel, ModelError

REGISTRY: dict[str, str] = {
    "naive": "forecast_assets.core.models.naive:NaiveModel",
    "xgboost": "forecast_assets.core.models.xgboost_direct:XGBoostModel",
    "sarimax_auto_weather": "forecast_assets.core.models.sarimax:SarimaxAutoWeather",
}


@cache
def model_class(name: str) -> type:
    try:
        module, cls = REGISTRY[name].split(":")
    except KeyError:
        raise ModelError(f"unknown model {name!r}; registered: {', '.join(REGISTRY)}") from None
    return getattr(importlib.import_module(module), cls)


def get_model(name: str) -> ForecastModel:
    return model_class(name)()


__all__ = ["REGISTRY", "ForecastModel", "ModelError", "get_model", "model_class"]
