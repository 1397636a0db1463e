# The method's contrastive term (zgerem/UDA contrastiveloss.py, stage 2): 1.0 x
# the cross-view pixel contrastive loss between each target image (anchors)
# and its source-styled copy, temperature 0.07, 2000 random pixel positions,
# the full-resolution class logits (L2-normalized) as embeddings. Merged into
# the model by the blocks that use it (stage2-fda-cl.py, fda-cl-online.py).
method_contrast = dict(
    lambda_cl=1.0,
    contrast_loss=dict(
        type='PixelContrastLoss',
        form='cross_view',
        temperature=0.07,
        sampling='uniform',
        max_samples=2000),
    embedding='logits')
