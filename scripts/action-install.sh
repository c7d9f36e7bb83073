#!/usr/bin/env bash
# The install step of devtoken's GitHub Action (action.yml): devtoken from the action's own
# checkout (the ref in `uses: …/devtoken@REF` is the version), in a venv of its own under
# RUNNER_TEMP so the job's Python stays as it was, and that venv's bin on GITHUB_PATH.
set -euo pipefail

die() {
  printf 'devtoken action: error: %s\n' "${1//[[:cntrl:]]/?}" >&2
  exit 2
}

source_dir="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set (run as a composite action)}"
extras="${INPUT_EXTRAS:-}"
extras="${extras// /}"
# Extras are names (verify, org, dask), nothing pip could read as a path, URL or option.
[[ "$extras" =~ ^[a-z0-9,-]*$ ]] || die "input extras must be comma-separated extra names (e.g. verify), not '$extras'"
case "${INPUT_VERIFY:-false}" in
  [Tt][Rr][Uu][Ee])
    case ",$extras," in
      *,verify,*) ;;
      *) extras="${extras:+$extras,}verify" ;;
    esac
    ;;
esac

venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/devtoken-venv"
python=python3
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "$source_dir${extras:+[$extras]}"
"$venv/bin/devtoken" --version
if [ -n "${GITHUB_PATH:-}" ]; then
  printf '%s\n' "$venv/bin" >>"$GITHUB_PATH"
fi
