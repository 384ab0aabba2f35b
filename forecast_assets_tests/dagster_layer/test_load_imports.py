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


def test_xgboost_model_imports_no_sklearn_and_leaves_it_importable():
    """The XGBoost model's import skips scikit-learn (~0.8 s a daily run; it uses only xgb.train and Booster),
    predicts as usual, and scikit-learn still imports for real afterwards (pmdarima needs it)."""
    code = ("import sys, numpy as np\n"
            "from forecast_assets.core.models.xgboost_direct import xgb, _train_booster, _predict\n"
            "print('sklearn' in sys.modules)\n"
            "x = np.random.default_rng(0).standard_normal((50, 2)); y = np.c_[x[:, 0], x[:, 1]]\n"
            "p = _predict(_train_booster(x, y, ['a', 'b']), x, ['a', 'b'])\n"
            "print(p.shape == (50, 2) and np.isfinite(p).all())\n"
            "import pmdarima, sklearn.base\n"
            "print(sklearn.base.BaseEstimator.__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "BaseEstimator"]
