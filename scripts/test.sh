#!/usr/bin/env bash
# The whole test suite from a fresh checkout: venv, dependencies, the offline
# wheelhouse the pre-commit test installs the hook from, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Headless Chromium for the HTML report test (Debian's package). A developer without it gets a
# skipped browser test; in CI (CI=true) a missing Chromium or ../shared fails the run.
in_ci() { case "${CI:-}" in 1|true|TRUE|yes) return 0 ;; *) return 1 ;; esac; }
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "warning: could not install chromium" >&2
fi
if in_ci; then
  command -v chromium >/dev/null 2>&1 || { echo "error: CI needs chromium (apt-get install chromium)" >&2; exit 1; }
  [ -d ../shared/corpus ] || { echo "error: CI needs ../shared beside the checkout" >&2; exit 1; }
fi
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
# pre-commit builds the hook's own venv from this repository; the tests give it
# these wheels instead of a network (tests never leave loopback).
.venv/bin/pip wheel -q -w .venv/wheelhouse . 'setuptools>=77' wheel
exec .venv/bin/python -m pytest -q "$@"
