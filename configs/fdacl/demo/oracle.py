# Oracle (upper bound): trained on the target train split WITH its labels.
_base_ = './_base_demo.py'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CityscapesDataset',
        data_root={{_base_.target_data_root}},
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline={{_base_.source_train_pipeline}}))
