# DAFormer's schedule (Hoyer et al., CVPR 2022, configs/_base_/schedules/
# adamw.py + poly10warm.py and the optimizer block of its leaves), which HRDA
# and MIC keep: AdamW, lr 6e-5, betas (0.9, 0.999), weight decay 0.01; the
# decode head at 10x lr; no weight decay on normalization layers ('norm') and
# positional blocks ('pos_block'); a linear warm-up from 1e-6 x lr over 1500
# iterations multiplying a poly decay (power 1) that runs over all 40000
# iterations, as mmcv 1.x's poly LrUpdaterHook with warmup='linear' does.
_base_ = './schedule_sgd-poly_150k.py'
optimizer = dict(
    _delete_=True,
    type='AdamW',
    lr=6e-05,
    betas=(0.9, 0.999),
    weight_decay=0.01)
# mmengine applies the longest matching key only, as mmcv 1.x did.
# DAFormer's key 'head' is 'decode_head' here (the same parameters in
# DAFormer's and HRDA's networks; a contrastive projection head keeps 1x).
# MMSeg's MixVisionTransformer calls the LayerNorm closing stage i
# 'layers.<i>.2' (SegFormer's 'norm<i+1>'): those keys keep it out of decay.
optim_wrapper = dict(
    optimizer=optimizer,
    paramwise_cfg=dict(
        custom_keys={
            'decode_head': dict(lr_mult=10.0),
            'pos_block': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
            'backbone.layers.0.2.': dict(decay_mult=0.0),
            'backbone.layers.1.2.': dict(decay_mult=0.0),
            'backbone.layers.2.2.': dict(decay_mult=0.0),
            'backbone.layers.3.2.': dict(decay_mult=0.0),
        }))
# mmengine's LinearLR and PolyLR reach their end factor at step end - 1:
# end=1501 and end=40001 give mmcv's factors (1e-6 + (1 - 1e-6) i / 1500 and
# 1 - i / 40000 at iteration i). Both start at 0 and multiply.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        end_factor=1.0,
        begin=0,
        end=1501,
        by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=0,
        end=40001,
        by_epoch=False)
]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
