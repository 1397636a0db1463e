# DAFormer's recipe on the demo (configs/_base_/uda/daformer-recipe.py):
# online_dacs.py plus rare-class sampling of the source from the converter's
# class_stats.json. The demo keeps the teacher at alpha 0.99 (see
# online_dacs.py) and weighs every row (its frames have no ego car).
_base_ = './online_dacs.py'
train_dataloader = dict(
    dataset=dict(
        rare_class_sampling=dict(
            class_stats='class_stats.json', temperature=0.01,
            min_pixels=3000)))
