# The method's cross-entropy class weights (zgerem/UDA, both training
# notebooks, `CS_weights`): 100 for fence, light, sign, person, rider and bus,
# 500 for train and motorcycle, 1000 for bicycle, 1 elsewhere (the notebooks
# divide by max / 2; ValidPixelCrossEntropyLoss takes the weighted mean over
# labeled pixels, as F.cross_entropy, so the scale does not matter).
method_class_weight = [
    1.0, 1.0, 1.0, 1.0, 100.0, 1.0, 100.0, 100.0, 1.0, 1.0, 1.0, 100.0, 100.0,
    1.0, 1.0, 100.0, 500.0, 500.0, 1000.0
]
