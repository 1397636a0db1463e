# The `make demo` pipeline: tools/run_pipeline.py --demo reads this spec.
# Data: generated into data/synthetic if missing (tools/make_synthetic_uda.py
# with these arguments), source labels converted by the GTA5 converter.
work_dir = 'work_dirs/demo'
data = dict(
    out_dir='data/synthetic',
    num_source=400,
    num_target_train=400,
    num_target_val=100,
    size=(128, 256),
    seed=0,
    nproc=2)
configs = dict(
    source_only='configs/fdacl/demo/source-only.py',
    fda='configs/fdacl/demo/fda.py',
    stage1='configs/fdacl/demo/stage1.py',
    stage2='configs/fdacl/demo/stage2.py',
    oracle='configs/fdacl/demo/oracle.py')
# Stage-1 predictions on source-stylized target images (FDA beta 0.01; the
# stage-1 model sees grayscale through its own data preprocessor), per-class
# thresholds at the 66th confidence percentile capped at 0.9 (FDA's rule).
pseudo_labels = dict(beta=0.01, percentile=0.66, cap=0.9, seed=0)
stage2_load_from_stage1 = True
num_vis = 4
