# SyncBN in the DAFormer head for runs on several GPUs: the head's BatchNorm
# layers (the ASPP branches and the bottleneck of the fusion) normalize over
# the batch of all GPUs, so 2 GPUs x 1 image see the statistics of one GPU x
# 2 images. MiT itself has LayerNorm only. A variable (a fragment cannot
# define `model` next to the model base), merged by the multi-GPU leaves:
#   model = dict(decode_head=_base_.daformer_head_syncbn)
# On CPU-only machines tools/train.py turns SyncBN back into BN.
syncbn = dict(type='SyncBN', requires_grad=True)
daformer_head_syncbn = dict(norm_cfg=syncbn, fusion_cfg=dict(norm_cfg=syncbn))
