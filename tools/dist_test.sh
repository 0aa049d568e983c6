#!/usr/bin/env bash
# Multi-process evaluation: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
# Environment: NNODES, NODE_RANK, MASTER_ADDR, PORT (torchrun's), OMP_NUM_THREADS (default:
# the machine's cores shared out among the processes).
source "$(dirname "$0")/misc/shell_lib.sh"
if mmtm_help_requested "$0" "$@"; then mmtm_usage "$0"; exit 0; fi
[ $# -ge 3 ] || { mmtm_usage_error "$0" "needs CONFIG, CHECKPOINT and NUM_PROCS"; exit 2; }
[[ "$3" =~ ^[1-9][0-9]*$ ]] || { mmtm_usage_error "$0" "NUM_PROCS must be a positive integer, got '$3'"; exit 2; }
CONFIG=$1
CHECKPOINT=$2
NPROCS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
# the processes share this machine's cores (torchrun's default is 1 thread each)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( $(nproc) / NPROCS > 0 ? $(nproc) / NPROCS : 1 ))}

python -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$NPROCS \
    --master_port=$PORT \
    "$(dirname "$0")/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
