"""Engine components (hooks) registered into MMSeg's registries."""
from . import hooks  # noqa: F401
