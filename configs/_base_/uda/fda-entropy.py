# FDA with one beta (Yang & Soatto, CVPR 2020) as FDA's README trains it
# (train.py --LB=0.01 --entW=0.005 --ita=2.0 --switch2entropy=0):
# cross-entropy on GTA5 in Cityscapes style + the entropy of Cityscapes, from
# the first iteration.
_base_ = ['./gta5-cityscapes_uda.py', './source-ce-entropy.py']
uda_model = dict(
    data_preprocessor=dict(
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.01, source_to_target=True)),
    warmup_iters=0)
