# DAFormer MiT-B5 on 4 GPUs with 2 images each (total batch 8). The rule for
# a larger total batch B, chosen here (DAFormer trains only 1x2): the same
# number of images as 1x2 (80k source + 80k target crops), so the
# iterations, the warm-up and the evaluation / checkpoint intervals are
# scaled by 2 / B, and the learning rate by B / 2 (the linear scaling rule
# of Goyal et al., 2017, the rule of mmengine's auto_scale_lr): lr 2.4e-4,
# warm-up 375, 10k iterations. The teacher's alpha stays 0.999 per
# iteration. SyncBN in the head. Not a published setting: not yet
# reproduced with this project (docs/daformer.md). Launch:
#   bash tools/dist_train.sh configs/fdacl/THIS.py 4
_base_ = [
    './daformer_mit-b5_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
    '../_base_/models/daformer_syncbn.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(decode_head=_base_.daformer_head_syncbn)
train_dataloader = dict(batch_size=2)
# mmengine's LinearLR / PolyLR reach their end factor at end - 1, hence +1
# (schedule_adamw-poly_40k.py).
optim_wrapper = dict(optimizer=dict(lr=2.4e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6,
        end_factor=1.0,
        begin=0,
        end=376,
        by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=0,
        end=10001,
        by_epoch=False)
]
train_cfg = dict(max_iters=10000, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
