# SGD + poly learning rate, iteration based, 150000 iterations: the DeepLabV2
# recipe of FDA/ADVENT (lr 2.5e-4, momentum 0.9, weight decay 5e-4, the
# decode head at 10x lr, poly power 0.9, batch 1).
optimizer = dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper',
    on_non_finite='raise',
    optimizer=optimizer,
    clip_grad=None,
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.0))))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=150000,
        by_epoch=False)
]
train_cfg = dict(
    type='ResumableIterBasedTrainLoop', max_iters=150000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The last checkpoint is the result, as published UDA results report
    # it: no checkpoint is kept for its score on the target's val labels,
    # which adaptation does not have. To keep the best one on them anyway
    # (an oracle selection, docs/fidelity.md):
    #   --cfg-options default_hooks.checkpoint.save_best=mIoU
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    rng_state=dict(type='RNGStateHook'),
    visualization=dict(type='SegVisualizationHook'))
