# FDA's run: the poly decay of schedule_sgd-poly_150k.py over 150000
# iterations, training stopped at 100000.
_base_ = './schedule_sgd-poly_150k.py'
train_cfg = dict(max_iters=100000)
