"""The first thing a remote step runs on the Databricks cluster: check, then hand over to dagster-databricks.

The step launcher uploads this file as the job's main script in place of dagster-databricks'
databricks_step_main.py. Before anything else (before importing Dagster, which the wrong Python or a
missing library would break in a less clear way) it compares the cluster with the Dagster host:

- the Python minor version: the launcher pickles the step on the host and the cluster unpickles it
  (and the host unpickles the cluster's events), so both must run the same Python;
- the installed versions of the libraries the steps import (defs/cluster_libraries.py), as the host has them.

A difference stops the step here with a message naming both sides and what to do. The parameters are
dagster-databricks' three (step ref, config, code zip) followed by the two this project adds.
Standard library only until the check has passed.
"""

import json
import runpy
import sys
from importlib import metadata

PYTHON_ARG = "--forecast-python="
PINS_ARG = "--forecast-pins="
CLUSTER_SPECS_HINT = ("the cluster spec's `libraries` come from forecast_assets/defs/cluster_libraries.py: run "
                      "`make cluster-specs` after changing constraints.txt, and keep `libraries` out of "
                      "deploy/databricks/*_launcher.yaml unless you mean to replace that list")


class ClusterMismatchError(RuntimeError):
    """The cluster's Python or libraries differ from the Dagster host's."""


def mismatches(host_python: str, host_pins: dict[str, str]) -> list[str]:
    """What differs between this interpreter and the host's; empty when they agree."""
    problems = []
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if here != host_python:
        problems.append(
            f"Python {here} on the cluster, Python {host_python} on the Dagster host: the step launcher pickles "
            f"the step, so both must run the same Python minor version; use a Databricks runtime with Python "
            f"{host_python} (spark_version in deploy/databricks/*_launcher.yaml; 17.3 LTS and 18 LTS ship 3.12) "
            f"or run Dagster under Python {here}")
        return problems  # the libraries of another Python say nothing more
    for name, version in sorted(host_pins.items()):
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"No module named '{name.replace('-', '_')}': library {name} is not installed on the "
                            f"cluster (the Dagster host has {name}=={version}); {CLUSTER_SPECS_HINT}")
            continue
        if found != version:
            problems.append(f"library {name} is {found} on the cluster and {version} on the Dagster host "
                            f"(constraints.txt); {CLUSTER_SPECS_HINT}")
    return problems


def split_args(argv: list[str]) -> tuple[list[str], str | None, dict[str, str]]:
    rest, python, pins = [], None, {}
    for arg in argv:
        if arg.startswith(PYTHON_ARG):
            python = arg[len(PYTHON_ARG):]
        elif arg.startswith(PINS_ARG):
            pins = json.loads(arg[len(PINS_ARG):])
        else:
            rest.append(arg)
    return rest, python, pins


def main(argv: list[str]) -> None:
    rest, python, pins = split_args(argv)
    if python is not None:
        if problems := mismatches(python, pins):
            # One line: the launcher shows a remote error's line in the step's failure.
            raise ClusterMismatchError("the cluster does not match the Dagster host: " + " | ".join(problems))
    # Only now: Dagster on the cluster, with what was checked above. Upstream's script runs as __main__, as
    # it would without this entry, with the globals the runtime gave this one (dbutils, sc) where it put them.
    from dagster_databricks import databricks_step_main

    given = {k: v for k, v in globals().items() if k in ("dbutils", "sc", "spark")}
    sys.argv = [databricks_step_main.__file__, *rest]
    runpy.run_path(databricks_step_main.__file__, init_globals=given, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
