#!/usr/bin/env bash
# Train on a Slurm cluster, like MMSeg's tools/slurm_train.sh:
#   GPUS=8 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]
# One task per GPU; on CPU-only nodes set GPUS_PER_NODE=0 and GPUS to the
# number of processes (gloo is used automatically, see mmseg_fdacl/utils/dist.py).
# Environment: GPUS (total tasks, 8), GPUS_PER_NODE (8), CPUS_PER_TASK (5),
# SRUN_ARGS (extra srun flags), MASTER_PORT (29500), PYTHON (default: the
# repository's .venv/bin/python when it exists, else `python`).
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
# The project interpreter, found from this script's own folder, so the
# command works without activating .venv and from any working directory.
VENV_PYTHON="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python"
[ -x "$VENV_PYTHON" ] || VENV_PYTHON=python
PYTHON=${PYTHON:-$VENV_PYTHON}
if [ -n "$WORK_DIR" ] && [ "${WORK_DIR#-}" = "$WORK_DIR" ]; then
    PY_ARGS=(--work-dir "$WORK_DIR" "${@:5}")
else
    PY_ARGS=("${@:4}")
fi
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
    "$PYTHON" -u "$(dirname "$0")/train.py" "${CONFIG}" --launcher="slurm" "${PY_ARGS[@]}"
