#!/usr/bin/env bash
# GPU check: DeepLabV2 ResNet-101 at 1024x512 on one GPU, source-only, stage 1,
# stage 2 and the online modes dacs, mic, fda-cl-online (random weights,
# generated data, 5 warm-up + 30 iterations each): seconds per iteration,
# images/s, peak GPU memory and the online modes' teacher share. Not yet run
# with the online modes; GPU_CHECK_TIMEOUT (default 300 s) bounds it, and
# --modes source-only stage2 ... runs a subset.
#   bash tools/benchmarks/gpu_check.sh                 # fp32
#   bash tools/benchmarks/gpu_check.sh --amp bf16      # mmengine AmpOptimWrapper
#   bash tools/benchmarks/gpu_check.sh --device cpu --tiny   # CPU smoke run
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}
exec timeout "${GPU_CHECK_TIMEOUT:-300}" "$PY" tools/benchmarks/gpu_check.py "$@"
