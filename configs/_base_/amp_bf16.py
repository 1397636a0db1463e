# bf16 autocast for any recipe of this project: the recipes' optimizer
# wrapper (NonFiniteGuardOptimWrapper, from configs/_base_/schedules/) becomes
# its mixed-precision twin, NonFiniteGuardAmpOptimWrapper: mmengine's
# AmpOptimWrapper on a GPU (autocast to bfloat16 around the forward and the
# losses), bf16 autocast on a CPU (CPUAmpOptimWrapper). bf16 keeps float32's
# exponent range, so no loss scaling: the gradient scaler is created disabled
# (with a scaler, every step would wait for the GPU to check the gradients
# for overflow). FDA runs in float32 under autocast all the same (the
# preprocessor turns autocast off around it).
# A fragment cannot define `optim_wrapper` next to a schedule that does
# (mmengine refuses a key two bases of one list define), so it is a variable
# that a leaf merges:
#   _base_ = ['./RECIPE.py', '../_base_/amp_bf16.py']
#   optim_wrapper = dict(_base_.amp_bf16_optim_wrapper)
# or, for any config, on the command line:
#   python tools/train.py CONFIG --cfg-options \
#       optim_wrapper.type=NonFiniteGuardAmpOptimWrapper \
#       optim_wrapper.dtype=bfloat16 optim_wrapper.loss_scale.enabled=False
amp_bf16_optim_wrapper = dict(
    type='NonFiniteGuardAmpOptimWrapper',
    dtype='bfloat16',
    loss_scale=dict(enabled=False))
