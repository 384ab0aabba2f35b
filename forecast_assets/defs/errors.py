"""Known failures leave a step as dg.Failure with the cause and a hint in the UI."""

import contextlib
import os

import dagster as dg

from forecast_assets.defs.launchers import SPEC_ENV
from forecast_assets.failures import explain


@contextlib.contextmanager
def explained_failures():
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        # On a cluster the launcher says which spec file it ran with, so hints can name it.
        known = explain(exc, os.environ.get(SPEC_ENV))
        if known is None:
            raise
        cause, hint = known
        raise dg.Failure(description=f"{cause}: {type(exc).__name__}: {exc}\nhint: {hint}",
                         metadata={"cause": cause, "hint": hint, "error": f"{type(exc).__name__}: {exc}"}) from exc
