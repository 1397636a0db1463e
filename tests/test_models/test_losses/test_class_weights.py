"""Class weights from class_stats.json, through MMSeg's CrossEntropyLoss."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_fdacl.models.losses.class_weights import (
    class_weights_from_counts, class_weights_from_stats)
from tools.compute_class_weights import main as cli_main


def _write_stats(path, counts):
    stats = dict(
        classes=[f'c{i}' for i in range(len(counts))],
        num_images=2,
        pixel_counts=counts,
        ignored_pixels=7,
        per_image={})
    path.write_text(json.dumps(stats))
    return str(path)


def test_inverse_frequency_mean_normalized(tmp_path):
    path = _write_stats(tmp_path / 'class_stats.json', [100, 300])
    # p = (0.25, 0.75) -> 1/p = (4, 4/3) -> mean 8/3 -> (1.5, 0.5)
    assert class_weights_from_stats(path, num_classes=2) == pytest.approx(
        [1.5, 0.5])
    sqrt = class_weights_from_stats(path, 2, method='sqrt_inverse',
                                    normalize=None)
    assert sqrt == pytest.approx([2.0, 1 / math.sqrt(0.75)])
    enet = class_weights_from_stats(path, 2, method='log_inverse',
                                    normalize='max')
    assert enet == pytest.approx(
        [1.0, math.log(1.02 + 0.25) / math.log(1.02 + 0.75)])


def test_missing_class_gets_largest_weight():
    with pytest.warns(UserWarning, match=r'\[2\]'):
        w = class_weights_from_counts([10, 30, 0], normalize=None)
    assert w[2] == w[0] == pytest.approx(4.0)


def test_bad_stats_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match='dataset_converters'):
        class_weights_from_stats(str(tmp_path / 'nope.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'num_images': 3}))
    with pytest.raises(ValueError, match='pixel_counts'):
        class_weights_from_stats(str(bad))
    short = _write_stats(tmp_path / 'short.json', [1, 2, 3])
    with pytest.raises(ValueError, match='num_classes=19'):
        class_weights_from_stats(short)
    with pytest.raises(ValueError, match='method'):
        class_weights_from_counts([1, 2], method='median')


def test_cli_output_loads_in_mmseg_cross_entropy(tmp_path):
    counts = list(range(1, 20))
    stats = _write_stats(tmp_path / 'class_stats.json', counts)
    out = cli_main([stats, '--method', 'sqrt_inverse', '--out',
                    str(tmp_path / 'w' / 'weights.json')])
    weights = json.loads(open(out).read())
    assert weights == pytest.approx(
        class_weights_from_stats(stats, method='sqrt_inverse'))
    # MMSeg's get_class_weight reads the JSON path itself.
    loss = MODELS.build(
        dict(type='CrossEntropyLoss', class_weight=out, loss_weight=1.0,
             avg_non_ignore=True))
    torch.manual_seed(0)
    logits = torch.randn(2, 19, 4, 4)
    label = torch.randint(0, 19, (2, 4, 4))
    # MMSeg 1.x averages by the summed weights of the pixels' classes, as
    # PyTorch does: only the ratios between weights change the loss.
    expected = F.cross_entropy(logits, label, weight=torch.tensor(weights))
    assert float(loss(logits, label)) == pytest.approx(float(expected),
                                                       rel=1e-5)
    # The same list given inline is equivalent.
    inline = MODELS.build(
        dict(type='CrossEntropyLoss', class_weight=weights,
             avg_non_ignore=True))
    assert float(inline(logits, label)) == pytest.approx(float(expected),
                                                         rel=1e-5)
