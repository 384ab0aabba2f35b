import warnings

import dagster as dg
import pytest

from forecast_assets.definitions import build_definitions, build_resources

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@pytest.fixture
def defs(settings):
    return build_definitions(settings)


@pytest.fixture
def resources(settings):
    return build_resources(settings)


@pytest.fixture
def assets(defs):
    return {a.key.to_user_string(): a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.is_executable
            and len(a.keys) == 1}
