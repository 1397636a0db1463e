# MIC on the demo: online_rcs.py plus masked image consistency (MIC's 70%
# masked; blocks of 16 pixels: the demo's 128x256 frames are a quarter of
# MIC's 512x512 crops in height, where blocks are 64).
_base_ = './online_rcs.py'
model = dict(lambda_mask=1.0, mask=dict(block_size=16, ratio=0.7))
