#!/usr/bin/env bash
# Set up the pinned environment if needed (tools/setup_env.sh), then run the test suite.
#   bash tools/run_tests.sh [pytest args...]
# Tests run in MMTOKENMIX_TEST_WORKERS processes (default 2, one thread each; -n 0 for one).
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/misc/shell_lib.sh
if mmtm_help_requested "$0" "$@"; then mmtm_usage tools/run_tests.sh; exit 0; fi
mmtm_setup_env .
python -m pytest -n "${MMTOKENMIX_TEST_WORKERS:-2}" "$@"
