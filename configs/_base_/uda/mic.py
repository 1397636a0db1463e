# MIC (Hoyer et al., CVPR 2023) on DAFormer's recipe (daformer-recipe.py):
# the student also sees the target image with 70% of its 64x64 blocks masked
# out (after the same colour jitter and blur) and is trained, weight 1,
# towards the teacher's pseudo labels of the whole image.
_base_ = ['./daformer-recipe.py']
uda_model = dict(
    lambda_mask=1.0, mask=dict(block_size=64, ratio=0.7, augment=True))
