"""Engine components (hooks) registered into MMSeg's registries."""
from . import hooks  # noqa: F401
from . import optimizers, runner  # noqa: F401
