#!/usr/bin/env bash
# `make ui`: `dagster dev` run from DAGSTER_HOME, stopped within seconds by Ctrl-C or SIGTERM.
#   scripts/dagster_ui.sh PATH/TO/dagster [dagster dev options...]
# - From DAGSTER_HOME: run anywhere else, dagster dev warns that ./dagster.yaml "will not be used"
#   (make copies it into DAGSTER_HOME, which is what is used).
# - dagster dev stops its webserver and daemon on SIGINT (KeyboardInterrupt) but takes no notice of
#   SIGTERM for 40 s and more. It runs here in its own process group; TERM, INT or HUP to this script
#   (or to make's whole group) become one SIGINT to that group, and the script waits for it to finish.
set -euo pipefail
dagster=$(realpath "$1"); shift
: "${DAGSTER_HOME:?DAGSTER_HOME must be set}"
# Relative FORECAST_* paths are meant from where make ran, not from DAGSTER_HOME.
for v in FORECAST_DATA_DIR FORECAST_DUCKDB_PATH FORECAST_ARTIFACT_DIR FORECAST_PLOT_DIR; do
  if [ -n "${!v:-}" ]; then export "$v=$(realpath -m -- "${!v}")"; fi
done
cd "$DAGSTER_HOME"
set -m  # job control: the background job below gets a process group of its own
"$dagster" dev "$@" &
pid=$!
set +m
stopping=
stop() {
  [ -n "$stopping" ] && return
  stopping=1
  kill -INT -- "-$pid" 2>/dev/null || true
}
trap stop TERM INT HUP
status=0
# `wait` returns early when a trapped signal arrives: wait again until dagster dev has really exited.
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid" && status=0 || status=$?
done
[ -n "$stopping" ] && exit 0
exit "$status"
