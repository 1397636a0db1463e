# DAFormer's schedule (Hoyer et al., CVPR 2022, configs/_base_/schedules/
# adamw.py + poly10warm.py), which MIC keeps: AdamW, lr 6e-5 (the decode head
# at 10x), betas (0.9, 0.999), weight decay 0.01; a linear warm-up from 1e-6 x
# lr over 1500 iterations, then poly decay with power 1 to 0 at 40000.
_base_ = './schedule_sgd-poly_150k.py'
optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=6e-05,
    betas=(0.9, 0.999),
    weight_decay=0.01)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        begin=0,
        end=1500,
        by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
