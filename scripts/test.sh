#!/usr/bin/env bash
# The whole test suite from a fresh checkout: venv, dependencies, the offline
# wheelhouse the pre-commit test installs the hook from, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
# pre-commit builds the hook's own venv from this repository; the tests give it
# these wheels instead of a network (tests never leave loopback).
.venv/bin/pip wheel -q -w .venv/wheelhouse . 'setuptools>=68' wheel
exec .venv/bin/python -m pytest -q "$@"
