# SGD + poly learning rate, iteration based, 2000 iterations: the recipe of
# schedule_sgd-poly_150k.py (FDA/ADVENT DeepLabV2) over a shorter run.
_base_ = './schedule_sgd-poly_150k.py'
param_scheduler = [
    dict(
        type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=2000,
        by_epoch=False)
]
train_cfg = dict(max_iters=2000, val_interval=500)
default_hooks = dict(checkpoint=dict(interval=500))
