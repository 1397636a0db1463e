# MIC (Hoyer et al., CVPR 2023) as switches of SelfTrainingEncoderDecoder for
# a self-training recipe (the DeepLabV2 leaf adds them to DAFormer's): the
# student also sees the target image with 70% of its 64x64 blocks masked out
# (after the same colour jitter and blur) and is trained, weight 1, towards
# the teacher's pseudo labels of the whole image.
mic_masking = dict(
    lambda_mask=1.0, mask=dict(block_size=64, ratio=0.7, augment=True))
