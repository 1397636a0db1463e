#!/usr/bin/env bash
# Test on a Slurm cluster, like MMSeg's tools/slurm_test.sh:
#   GPUS=4 bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args...]
# Environment as tools/slurm_train.sh (GPUS_PER_NODE=0 for CPU-only nodes).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
# The project interpreter, found from this script's own folder, so the
# command works without activating .venv and from any working directory.
VENV_PYTHON="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
[ -x "$VENV_PYTHON" ] || VENV_PYTHON=python
PYTHON=${PYTHON:-$VENV_PYTHON}
TASKS_PER_NODE=$GPUS_PER_NODE
[ "$TASKS_PER_NODE" -gt 0 ] 2>/dev/null || TASKS_PER_NODE=$GPUS
GRES=""
[ "$GPUS_PER_NODE" -gt 0 ] 2>/dev/null && GRES="--gres=gpu:${GPUS_PER_NODE}"

PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
srun -p "${PARTITION}" \
    --job-name="${JOB_NAME}" \
    $GRES \
    --ntasks="${GPUS}" \
    --ntasks-per-node="${TASKS_PER_NODE}" \
    --cpus-per-task="${CPUS_PER_TASK}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$(dirname "$0")/test.py" "${CONFIG}" "${CHECKPOINT}" --launcher="slurm" "${@:5}"
