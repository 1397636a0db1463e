# Shared by the adaptation configs: a source batch paired with a target batch
# (UDADataset), the UDA data preprocessor and the UDA segmentor. Leaf configs
# switch FDA, grayscale and the losses.
_base_ = './_base_demo.py'
uda_train_dataset = dict(
    type='UDADataset',
    source={{_base_.source_dataset}},
    target={{_base_.target_train_dataset}},
    pairing='random',
    seed=0)
train_dataloader = dict(dataset=dict(_delete_=True, **uda_train_dataset))
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=dict(type='UDADataPreProcessor'))
