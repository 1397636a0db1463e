# MIC on HRDA on the demo: online_hrda.py plus masked image consistency as
# configs/_base_/uda/mic.py (70% of the blocks masked, weight 1, on the
# colour-augmented target; the masked image goes through the HRDA crops),
# blocks of 16 pixels as online_mic.py (MIC's 64 on its 512-pixel crops; the
# demo frames are 128 pixels high).
_base_ = ['./online_hrda.py']
model = dict(lambda_mask=1.0, mask=dict(block_size=16, ratio=0.7,
                                        augment=True))
