"""Loading the code location imports no model, plotting, scoring or cluster library.

Every process that loads it pays for what it imports: the UI, the daemon, and each run (the daily
schedule's runs are mostly process start, issue 17). These are imported where a step uses them."""

import os
import subprocess
import sys

# Each costs 0.05-1.3 s to import and no definition needs it (jsonschema only names why a stored model is refused).
HEAVY = ("matplotlib", "scoringrules", "scipy", "statsmodels", "pmdarima", "xgboost", "sklearn", "pyspark",
         "databricks", "dash", "plotly", "jsonschema")


def test_loading_the_code_location_imports_no_heavy_library(tmp_path):
    code = ("import sys, forecast_assets.definitions as d; d.defs.resolve_asset_graph(); "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = {**os.environ, "FORECAST_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [], f"imported when the code location loads: {out.stdout.strip()}"
