#!/usr/bin/env bash
# Set up the pinned environment if needed (tools/setup_env.sh), then run the test suite.
#   bash tools/run_tests.sh [pytest args...]
# Tests run in MMTOKENMIX_TEST_WORKERS processes (default 2, one thread each; -n 0 for one).
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
python -m pytest -n "${MMTOKENMIX_TEST_WORKERS:-2}" "$@"
