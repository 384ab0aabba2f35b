import json

import pytest

from forecast_assets.core import fitted
from forecast_assets.core.fitted import FittedModelError


def _doc():
    return fitted.envelope("naive", "Coffee", "2015-07-07", "2023-12-29", 100,
                           {"drift": 0.0, "drift_used": False, "std_residuals": [1.0, -1.0] * 10,
                            "volatility": {"kind": "ewma", "omega": 0.0, "alpha": 0.06, "gamma": 0.0, "beta": 0.94,
                                           "nu": None, "fallback_reason": "test", "sigma2_next": 0.0001,
                                           "state_date": "2023-12-29"}})


def test_roundtrip():
    text = fitted.dumps(_doc())
    assert fitted.loads(text) == _doc()
    assert fitted.fingerprint(text) == fitted.fingerprint(fitted.dumps(_doc()))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("params"), "params"),
    (lambda d: d.update(model_name="os.system"), "model_name"),
    (lambda d: d["params"].update(drift="0.1"), "drift"),
    (lambda d: d["params"].update(extra=1), "params"),
    (lambda d: d.update(format_version=99), "format_version"),
])
def test_invalid_models_are_rejected_before_use(mutate, message):
    d = _doc()
    mutate(d)
    with pytest.raises(FittedModelError, match=message):
        fitted.loads(json.dumps(d))


def test_not_json_and_nan_are_rejected():
    with pytest.raises(FittedModelError, match="not valid JSON"):
        fitted.loads(b"\x80\x04\x95".decode("latin1"))  # the start of a pickle
    with pytest.raises(FittedModelError, match="NaN"):
        fitted.loads(json.dumps(_doc()).replace("0.0001", "NaN"))
    with pytest.raises(ValueError):
        fitted.dumps(_doc() | {"params": {"drift": float("nan"), "std_residuals": []}})
