# DAFormer on the demo: DAFormer's online recipe as the demo runs it
# (online_rcs.py: mean teacher + ClassMix, colour jitter and blur, quality-
# weighted pseudo labels, rare-class sampling) on the small MiT with the
# DAFormer head (_base_mit.py), initialized from the MiT source-only
# checkpoint by tools/run_pipeline.py. As on online_rcs.py: teacher alpha
# 0.99, every row weighed, no ImageNet feature distance (no ImageNet weights).
_base_ = ['./online_rcs.py', './_base_mit.py']
model = dict(
    backbone=dict(_delete_=True, **_base_.mit_backbone),
    decode_head=dict(_delete_=True, **_base_.daformer_head))
