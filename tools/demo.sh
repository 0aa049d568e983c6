#!/usr/bin/env bash
# The bundled default job: set up the pinned environment if needed, generate the toy dataset if
# absent, train RetinaNet + TransXNet-T on it from scratch (CPU), then evaluate the final
# checkpoint with the COCO evaluator and print the bbox mAP table.
#   bash tools/demo.sh [extra tools/train.py args...]
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
CONFIG=configs/retinanet_transxnet_t_toy.py
WORK_DIR=work_dirs/retinanet_transxnet_t_toy
[ -f data/toy/annotations/instances_val.json ] || python tools/make_toy_data.py --root data/toy
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
python tools/test.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" --work-dir "$WORK_DIR/test"
