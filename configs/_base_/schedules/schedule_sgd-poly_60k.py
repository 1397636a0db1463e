# The 150k recipe with the poly decay over 60000 iterations: the method's
# stage 2 (zgerem/UDA training_contrastive.ipynb, num_steps=60000).
_base_ = './schedule_sgd-poly_150k.py'
param_scheduler = [dict(_base_.param_scheduler[0], end=60000)]
train_cfg = dict(max_iters=60000, val_interval=5000)
