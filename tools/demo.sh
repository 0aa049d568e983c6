#!/usr/bin/env bash
# The bundled default job: set up the pinned environment if needed, generate the toy dataset if
# absent, train a toy config from scratch (CPU), then evaluate its final checkpoint (COCO
# bbox/segm mAP for detectors, mIoU for segmentors, top-1 accuracy for classifiers), then draw
# its predictions on four validation images (WORK_DIR/predictions.jpg, demo/image_demo.py;
# detectors and segmentors) and the training curves (WORK_DIR/curves.png,
# tools/analysis_tools/plot_curves.py).
#   bash tools/demo.sh [CONFIG] [extra tools/train.py args...]
# CONFIG defaults to configs/retinanet_transxnet_t_toy.py; the other toy configs are
# configs/{maskrcnn,yolov3,segformer}_transxnet_t_toy.py, configs/retinanet_dfformer_s18_toy.py,
# configs/segformer_cdfformer_s18_toy.py, configs/{yolov3,segformer}_xformer_toy.py,
# configs/retinanet_dmformer_s_toy.py and configs/sfpn_dmformer_s_toy.py; the toy pretraining
# config (an mmpretrain classifier on the toy classification set) is
# configs/classifier_transxnet_t_toy.py.
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/misc/shell_lib.sh
if mmtm_help_requested "$0" "$@"; then mmtm_usage tools/demo.sh; exit 0; fi
CONFIG=configs/retinanet_transxnet_t_toy.py
if [[ "$1" == *.py ]]; then CONFIG=$1; shift; fi
[ -f "$CONFIG" ] || { mmtm_usage_error tools/demo.sh "no config file $CONFIG"; exit 2; }
mmtm_setup_env .
WORK_DIR=work_dirs/$(basename "$CONFIG" .py)
SCOPE=$(python -c 'import sys; from mmengine import Config
from mmtokenmix.config_utils import detect_default_scope
print(detect_default_scope(Config.fromfile(sys.argv[1])))' "$CONFIG")
if [ "$SCOPE" = mmpretrain ]; then
    [ -f data/toy_cls/meta/val.txt ] || python tools/make_toy_data.py --classification
else
    [ -f data/toy/annotations/instances_val.json ] || python tools/make_toy_data.py --root data/toy
fi
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
python tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test"
if [ "$SCOPE" != mmpretrain ]; then
    python demo/image_demo.py data/toy/images/val/00000[0-3].png "$CONFIG" "$CKPT" \
        --out-dir "$WORK_DIR/demo" --grid "$WORK_DIR/predictions.jpg"
fi
python tools/analysis_tools/plot_curves.py "$WORK_DIR" --out "$WORK_DIR/curves.png"
