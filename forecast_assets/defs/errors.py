"""Known failures leave a step as dg.Failure with the cause and a hint in the UI."""

import contextlib

import dagster as dg

from forecast_assets.failures import explain


@contextlib.contextmanager
def explained_failures():
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        known = explain(exc)
        if known is None:
            raise
        cause, hint = known
        raise dg.Failure(description=f"{cause}: {type(exc).__name__}: {exc}\nhint: {hint}",
                         metadata={"cause": cause, "hint": hint, "error": f"{type(exc).__name__}: {exc}"}) from exc
