"""One street scene: the renderer that combines the layout and object mixins,
and :func:`render_scene`, the entry point for either domain."""
from typing import Sequence, Tuple

import numpy as np

from .appearance import camera_look
from .geometry import Camera, Canvas
from .layout import LayoutMixin
from .objects import PeopleMixin, StreetFurnitureMixin
from .vehicles import VehicleMixin

DOMAINS = ('source', 'target')
_DOMAIN_CODE = {'source': 0, 'target': 1}
_SPLIT_CODE = {'source': 0, 'train': 1, 'val': 2}


class SceneRenderer(LayoutMixin, StreetFurnitureMixin, VehicleMixin,
                    PeopleMixin):
    """Samples one street scene and rasterizes it into a :class:`Canvas`.

    Every random draw comes from ``rng``, in a fixed order: the camera and
    street widths here, then the layout, the objects (in :meth:`render`'s
    order) and finally the draw calls, far to near.

    Args:
        rng (np.random.Generator): The scene's generator.
        size (tuple[int, int]): ``(H, W)`` of the canvas.
    """

    def __init__(self, rng: np.random.Generator,
                 size: Tuple[int, int]) -> None:
        self.rng = rng
        h, w = size
        self.h, self.w = h, w
        self.canvas = Canvas(h, w)
        self.road_w = rng.uniform(7.0, 13.0)
        self.cam = Camera(
            f=w * rng.uniform(0.9, 1.15),
            xv=w * (0.5 + rng.uniform(-0.08, 0.08)),
            yh=h * rng.uniform(0.38, 0.47),
            hc=rng.uniform(1.3, 1.7),
            x=self.road_w / 4 * rng.uniform(0.6, 1.2))  # the right lane
        self.sidewalk_w = rng.uniform(2.0, 4.5)
        self.objects = []

    def render(self) -> Canvas:
        """Lay out the street, place the objects, draw them far to near."""
        rng = self.rng
        self._sky()
        side_info = [self._side_layout(s) for s in (-1, 1)]
        self._ground(side_info)
        self._skyline()
        for s, info in zip((-1, 1), side_info):
            self._facades(s, info)
        self._street_furniture()
        self._vehicles()
        self._people()
        if rng.random() < 0.3:
            self._ego_hood()
        for _, draw in sorted(self.objects, key=lambda o: -o[0]):
            draw()
        return self.canvas


def render_scene(rng: np.random.Generator, size: Tuple[int, int],
                 domain: str) -> Tuple[np.ndarray, np.ndarray]:
    """Render one street scene of a domain.

    Args:
        rng (np.random.Generator): The only source of randomness: the same
            generator state gives the same scene.
        size (tuple[int, int]): ``(H, W)`` of the image.
        domain (str): ``'source'`` (game-like) or ``'target'``
            (camera-like). Both draw the scene from the same sampler.

    Returns:
        tuple[np.ndarray, np.ndarray]: The ``H x W x 3`` uint8 RGB image and
        the ``H x W`` uint8 train-id label map (255 = ignored, the
        recording car's bonnet).
    """
    if domain not in DOMAINS:
        raise ValueError(f'domain={domain!r} is not one of {DOMAINS}')
    h, w = check_size(size)
    canvas = SceneRenderer(rng, (h, w)).render()
    if domain == 'source':
        img = canvas.color
    else:
        img = camera_look(rng, canvas)
    return np.round(np.clip(img, 0, 255)).astype(np.uint8), canvas.label


def check_size(size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` as integers; raises ``ValueError`` unless both are >= 16."""
    if (len(size) != 2 or any(int(s) != s or s < 16 for s in size)):
        raise ValueError(f'size={tuple(size)!r} must be (H, W) with integers '
                         '>= 16')
    return int(size[0]), int(size[1])


def image_rng(seed: int, domain: str, split: str,
              index: int) -> np.random.Generator:
    """Per-image generator: results do not depend on order or process."""
    ss = np.random.SeedSequence(
        entropy=seed,
        spawn_key=(_DOMAIN_CODE[domain], _SPLIT_CODE[split], index))
    return np.random.default_rng(ss)
