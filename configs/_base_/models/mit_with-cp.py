# Activation checkpointing of the MiT blocks (MMSeg's MixVisionTransformer
# with_cp): each transformer layer's activations are recomputed in the
# backward pass instead of being kept, trading about one more forward of the
# encoder for its activation memory; the result is unchanged. A variable (a
# fragment cannot define `model` next to the model base); in a leaf:
#   _base_ = ['./LEAF.py', '../_base_/models/mit_with-cp.py']
#   model = dict(backbone=_base_.mit_with_cp)
# or on the command line: --cfg-options model.backbone.with_cp=True
mit_with_cp = dict(with_cp=True)
