#!/usr/bin/env bash
# Set up the pinned environment if needed (tools/setup_env.sh), then run the test suite.
#   bash tools/run_tests.sh [pytest args...]
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
python -m pytest "$@"
