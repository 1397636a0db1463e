"""The MKL VML warm-up (pytorch/pytorch#188792) runs when mmseg_fdacl is
imported and leaves every op's results unchanged."""
import torch

import mmseg_fdacl  # noqa: F401
from mmseg_fdacl.utils import mkl_warmup


def test_import_ran_the_warm_up():
    assert mkl_warmup.warm_up_mkl_vml() is torch.backends.mkl.is_available()
    assert mkl_warmup._done is torch.backends.mkl.is_available()


def test_warm_up_covers_existing_ops_and_changes_no_result():
    x = torch.linspace(0.05, 0.95, 50000)
    before = {name: getattr(torch, name)(x) for name in mkl_warmup.VML_OPS}
    mkl_warmup.warm_up_mkl_vml()
    for name in mkl_warmup.VML_OPS:
        assert torch.equal(getattr(torch, name)(x), before[name]), name
