# GTA5 (labeled source) paired with Cityscapes train images (unlabeled
# target) for domain adaptation: each source sample gets a target sample
# (random pairing, seeded; see UDADataset). Sizes and pipelines are those of
# the two dataset bases (GTA5 1280x720 with 1024x512 crops; Cityscapes resized
# to 1024x512). Validation/test: Cityscapes val, from the Cityscapes base.
# Data roots on the command line:
#   --cfg-options train_dataloader.dataset.source.data_root=data/gta5 \
#                 train_dataloader.dataset.target.data_root=data/cityscapes \
#                 val_dataloader.dataset.data_root=data/cityscapes
_base_ = [
    '../datasets/gta5_1280x720.py',
    '../datasets/cityscapes_1024x512.py',
]
target_train_dataset = dict(
    type={{_base_.target_dataset_type}},
    data_root={{_base_.target_data_root}},
    data_prefix=dict(img_path='leftImg8bit/train'),
    pipeline={{_base_.target_train_pipeline}})
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='UDADataset',
        source={{_base_.train_dataloader.dataset}},
        target=target_train_dataset,
        pairing='random',
        seed=0,
        pseudo_label_dir=None))
# Parameters that a term does not use in an iteration (e.g. before the
# warm-up) must not stop DDP.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
