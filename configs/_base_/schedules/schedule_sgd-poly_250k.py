# DACS' schedule as its paper trains DeepLabV2 (Tranheden et al., WACV 2021): SGD,
# lr 2.5e-4 (the decode head at 10x, as the DeepLabV2 recipe), momentum 0.9,
# weight decay 5e-4, poly power 0.9 over 250000 iterations.
_base_ = './schedule_sgd-poly_150k.py'
param_scheduler = [dict(_base_.param_scheduler[0], end=250000)]
train_cfg = dict(max_iters=250000, val_interval=5000)
