#!/usr/bin/env bash
# GPU check: every training mode (source-only, stage 1, stage 2, dacs,
# daformer-recipe, mic, fda-cl-online) on DeepLabV2 ResNet-101 at 512x1024 on
# one GPU, in fp32, bf16 autocast and bf16 + channels-last (random weights,
# generated batches, 3 warm-up + 15 iterations each), after DAFormer, HRDA and
# MIC(HRDA) on MiT-B5 at 1024x1024, batch 2 (fp32, bf16, bf16 + activation
# checkpointing; 1 warm-up + 3 iterations): one table of seconds per
# iteration, images/s, peak GPU memory and the online modes' teacher share.
# Sized for GPU_CHECK_TIMEOUT (default 300 s) on one H100 (estimate ~230 s);
# not yet run on a GPU. --modes / --variants / --mit-variants run a subset.
#   bash tools/benchmarks/gpu_check.sh
#   bash tools/benchmarks/gpu_check.sh --variants bf16-cl-compile --modes stage2
#   bash tools/benchmarks/gpu_check.sh --modes mic-hrda --mit-variants bf16-cp
#   bash tools/benchmarks/gpu_check.sh --device cpu --quick   # CPU smoke run
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
exec timeout "${GPU_CHECK_TIMEOUT:-300}" "$PY" tools/benchmarks/gpu_check.py "$@"
