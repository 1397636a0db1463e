# Single-beta FDA (beta 0.01) + entropy with ENet (Paszke et al., 2016),
# trained from scratch; poly decay over 150k iterations, stopped at 100k, as
# FDA's README run.
_base_ = [
    '../_base_/models/enet.py',
    '../_base_/uda/fda-entropy.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = _base_.uda_model
