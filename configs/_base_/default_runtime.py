# MMSeg's runtime (mmseg/.mim/configs/_base_/default_runtime.py: default_scope,
# env_cfg, visualizer, log settings, load_from, resume, tta_model) and what
# this project changes. The model bases inherit it, so the leaves do not list
# it.
_base_ = ['mmseg::_base_/default_runtime.py']
# Seeded runs (MMSeg's runtime leaves the seed random).
randomness = dict(seed=0)
