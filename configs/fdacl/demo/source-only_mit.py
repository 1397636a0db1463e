# Source only with the demo's small MiT and the DAFormer head (_base_mit.py):
# cross-entropy on the game-like source, the demo's schedule and optimizer
# (source-only.py), from scratch. The transformer rows' online steps start
# from this checkpoint.
_base_ = ['./_base_demo.py', './_base_mit.py']
model = dict(
    backbone=dict(_delete_=True, **_base_.mit_backbone),
    decode_head=dict(_delete_=True, **_base_.daformer_head))
