# What the method blocks in this folder share: the UDA segmentor trained with
# cross-entropy on the labeled source and FDA's entropy term on the target,
# 0.005 x the Charbonnier entropy with eta 2 (FDA train.py --entW=0.005
# --ita=2.0).
# A method block is `uda_model`, which the leaves merge into the `model` of
# their model base (model = dict(_base_.uda_model, ...)): a fragment cannot
# define `model` itself, since mmengine refuses a key that two `_base_` files
# of one list define.
uda_model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=dict(type='UDADataPreProcessor'),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0))
