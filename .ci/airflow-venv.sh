#!/usr/bin/env bash
# Apache Airflow in a virtual environment of its own, for the example DAG and its test
# (tests/e2e/test_airflow_dag.py, marked `airflow`).
#
# Why a separate venv: Airflow pins much of its dependency tree, and deanalyze's own
# environment must not be bent to fit it (nor the other way round). deanalyze is then
# installed into the same venv from this checkout, as it would be on an Airflow worker.
#
# Usage: .ci/airflow-venv.sh            (venv at ${DEANALYZE_AIRFLOW_VENV:-/opt/deanalyze-airflow})
# Idempotent: a venv whose stamp matches the Airflow spec and this checkout's sources is
# left as it is (a second run takes about a second). pip's cache is kept and reused.
#
# Airflow's official constraint files are served from GitHub, which this project's machines
# cannot reach; instead the version range below is one that resolves from PyPI and was
# tested (see README.md, "Scheduling").
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${DEANALYZE_AIRFLOW_VENV:-/opt/deanalyze-airflow}"
AIRFLOW_SPEC="${DEANALYZE_AIRFLOW_SPEC:-apache-airflow>=3.3,<3.4}"
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

# What the venv must match: the Airflow spec, the interpreter, and deanalyze's sources.
PROJECT_FILES=(pyproject.toml README.md analyzer connectors rules reports)
sources_hash() {
  { echo "$AIRFLOW_SPEC"; "$PYTHON" -VV
    find "${PROJECT_FILES[@]}" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' ! -path '*.egg-info/*' |
      LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
}

STAMP="$VENV/.deanalyze-stamp"
WANT="$(sources_hash)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] &&
   version="$("$VENV/bin/python" -c 'import airflow; print(airflow.__version__)' 2>/dev/null)"; then
  echo "airflow-venv: $VENV is ready (Airflow $version)"
  exit 0
fi

# pip's output goes to a log, shown only when a step fails: CI's log stays readable.
LOG="$(mktemp)"
copy="$(mktemp -d)"
trap 'rm -rf "$copy" "$LOG"' EXIT
pip_quiet() {
  if ! "$VENV/bin/python" -m pip install "$@" >"$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "airflow-venv: pip install $* failed" >&2
    return 1
  fi
}

start=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
pip_quiet --upgrade pip
# Airflow first, then deanalyze from a copy of this checkout: not editable (the venv must not
# depend on where this clone lives) and no build/ folder left in the work tree. pip refuses
# a deanalyze whose requirements break Airflow's.
pip_quiet "$AIRFLOW_SPEC"
cp -r "${PROJECT_FILES[@]}" "$copy/"
find "$copy" -name '*.egg-info' -prune -exec rm -rf {} +
pip_quiet "$copy"
pip_quiet --force-reinstall --no-deps "$copy"
if ! "$VENV/bin/python" -m pip check >"$LOG" 2>&1; then
  cat "$LOG" >&2
  exit 1
fi
echo "$WANT" > "$STAMP"
echo "airflow-venv: $VENV ready in $((SECONDS - start)) s: Airflow $("$VENV/bin/python" -c 'import airflow; print(airflow.__version__)'), $("$VENV/bin/deanalyze" --version)"
