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
# A SIGINT that lands while dagster dev is still starting its daemon or code server can leave one of
# them running (seen once in CI: the group still alive 60 s later). Past this grace the group is killed.
grace=${FORECAST_UI_STOP_GRACE:-12}
deadline=
stop() {
  [ -n "$stopping" ] && return
  stopping=1
  deadline=$((SECONDS + grace))
  kill -INT -- "-$pid" 2>/dev/null || true
}
trap stop TERM INT HUP
status=0
# `wait` returns early when a trapped signal arrives; once stopping, poll the whole group (its leader
# may exit before its children) until it is gone or the grace is over.
while kill -0 -- "-$pid" 2>/dev/null; do
  if [ -z "$stopping" ]; then
    if kill -0 "$pid" 2>/dev/null; then wait "$pid" && status=0 || status=$?; else break; fi
    continue
  fi
  if (( SECONDS >= deadline )); then
    echo "dagster dev did not stop ${grace}s after SIGINT: killing its process group" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
[ -n "$stopping" ] && exit 0
exit "$status"
