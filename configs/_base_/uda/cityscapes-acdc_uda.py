# Cityscapes (labeled source) paired with ACDC train images (unlabeled
# target): Cityscapes resized to 1024x512 (the whole frame), ACDC resized
# to 1024x576 with 1024x512 crops (../datasets/acdc_1024x576.py); validation on
# ACDC val (mIoU), test on the ACDC test split in the server's format
# (tools/test.py CONFIG CKPT --out DIR).
# Data roots on the command line:
#   --cfg-options train_dataloader.dataset.source.data_root=data/cityscapes \
#                 train_dataloader.dataset.target.data_root=DATA_ROOT \
#                 val_dataloader.dataset.data_root=DATA_ROOT \
#                 test_dataloader.dataset.data_root=DATA_ROOT
_base_ = [
    '../datasets/cityscapes-source_1024x512.py',
    '../datasets/acdc_1024x576.py',
]
target_train_dataset = dict(
    type={{_base_.target_dataset_type}},
    data_root={{_base_.target_data_root}},
    split='train',
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
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
