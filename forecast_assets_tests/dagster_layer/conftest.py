import warnings

import dagster as dg
import pytest

from forecast_assets.definitions import build_definitions
from forecast_assets.defs.launchers import spark_resource, step_launchers
from forecast_assets.defs.resources import ForecastResource

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@pytest.fixture
def defs(settings):
    return build_definitions(settings)


@pytest.fixture
def resources(settings):
    return {"forecast": ForecastResource.from_settings(settings), **step_launchers(settings),
            **spark_resource(settings)}


@pytest.fixture
def assets(defs):
    return {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.is_executable
            and len(a.keys) == 1}
