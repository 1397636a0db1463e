# SGD + poly learning rate, iteration based, 100000 iterations: the recipe of
# schedule_sgd-poly_150k.py (FDA/ADVENT DeepLabV2) over a shorter run.
_base_ = './schedule_sgd-poly_150k.py'
param_scheduler = [dict(_base_.param_scheduler[0], end=100000)]
train_cfg = dict(max_iters=100000, val_interval=5000)
default_hooks = dict(checkpoint=dict(interval=5000))
