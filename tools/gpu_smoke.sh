#!/usr/bin/env bash
# GPU smoke check: on a machine with an NVIDIA GPU, after (or including) the one-time set-up.
#   bash tools/gpu_smoke.sh [WORK_DIR]        # default work_dirs/gpu_smoke
# 1. set-up (tools/setup_env.sh: mmcv with CUDA ops for the GPUs found; the first time this
#    compiles them, which depends on the machine: set MAX_JOBS to the cores you can spare);
# 2. mmcv.ops.nms / RoIAlign on CUDA equal to the CPU ops (tools/misc/check_stack.py);
# 3. one epoch of the toy RetinaNet-TransXNet-T on the GPU (64 iterations) + COCO evaluation,
#    in float32, then with --amp in float16 (dynamic loss scaling) and in bfloat16;
# 4. forward throughput and peak memory of retinanet_transxnet_t_coco.py at 1333x800 on the GPU
#    (tools/analysis_tools/benchmark_table.py, random weights, batch 1 and 2).
# Steps 2-4 take about a minute on a current GPU; each prints its numbers, and the script stops
# at the first failure.
set -eo pipefail
cd "$(dirname "$0")/.."
source tools/misc/shell_lib.sh
if mmtm_help_requested "$0" "$@"; then mmtm_usage tools/gpu_smoke.sh; exit 0; fi
WORK_DIR=${1:-work_dirs/gpu_smoke}
export MMTOKENMIX_DEVICE=${MMTOKENMIX_DEVICE:-cuda}
t0=$SECONDS
mmtm_setup_env .
echo "[gpu-smoke] set-up ready after $((SECONDS - t0)) s"
nvidia-smi -L

python tools/misc/check_stack.py --device cuda

mkdir -p "$WORK_DIR"
[ -f data/toy/annotations/instances_val.json ] || python tools/make_toy_data.py --root data/toy
t1=$SECONDS
python tools/train.py configs/retinanet_transxnet_t_toy.py --work-dir "$WORK_DIR/toy" \
    --cfg-options train_cfg.max_epochs=1 train_cfg.val_interval=1 model.test_cfg.score_thr=0.0 \
    | tee "$WORK_DIR/toy.log" | grep -E 'Epoch\(train\) \[1\]\[64/64\]|coco/bbox_mAP|device|CUDA'
grep -q "CUDA available: True" "$WORK_DIR/toy.log"
echo "[gpu-smoke] toy epoch + evaluation on the GPU: $((SECONDS - t1)) s"
# the same epoch in mixed precision: fp16 with dynamic loss scaling (--amp on a GPU), then bf16
for dtype in float16 bfloat16; do
    t1=$SECONDS
    python tools/train.py configs/retinanet_transxnet_t_toy.py --amp \
        --work-dir "$WORK_DIR/toy_amp_$dtype" --cfg-options train_cfg.max_epochs=1 \
        train_cfg.val_interval=1 model.test_cfg.score_thr=0.0 optim_wrapper.dtype=$dtype \
        | tee "$WORK_DIR/toy_amp_$dtype.log" | grep -E 'Epoch\(train\) \[1\]\[64/64\]|coco/bbox_mAP'
    echo "[gpu-smoke] toy epoch in $dtype autocast on the GPU: $((SECONDS - t1)) s"
done

t2=$SECONDS
python tools/analysis_tools/benchmark_table.py --filter '^retinanet_transxnet_t_coco$' \
    --device cuda --out "$WORK_DIR/benchmark.md" --work-dirs "$WORK_DIR/none"
cat "$WORK_DIR/benchmark.md" | grep -E 'retinanet_transxnet_t_coco|img/s|^\|' | head -n 12
echo "[gpu-smoke] benchmark: $((SECONDS - t2)) s; all steps: $((SECONDS - t0)) s"
