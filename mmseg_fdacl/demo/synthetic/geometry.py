"""Image-space geometry: the label/color/depth canvas and the pinhole camera."""
from typing import Callable, List, Sequence, Tuple

import cv2
import numpy as np

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX


class Canvas:
    """Label, color and depth buffers with painter's-algorithm primitives.

    Every primitive rasterises into a mask cropped to its bounding box, so a
    small object costs little whatever the image size. Coordinates are
    sub-pixel (cv2 ``shift``) without anti-aliasing: edges stay sharp.
    """

    SHIFT = 3

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.label = np.full((h, w), IGNORE_INDEX, np.uint8)
        self.color = np.zeros((h, w, 3), np.float32)
        self.depth = np.full((h, w), np.inf, np.float32)

    def _paint(self, bbox: Tuple[float, float, float, float],
               draw: Callable[[np.ndarray, np.ndarray], None], label: int,
               color: Sequence[float], depth: float) -> None:
        x0, y0, x1, y1 = bbox
        x0, y0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        x1, y1 = min(int(np.ceil(x1)) + 1,
                     self.w), min(int(np.ceil(y1)) + 1, self.h)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        draw(mask, np.array([x0, y0], np.float64))
        m = mask.astype(bool)
        if not m.any():
            return
        self.label[y0:y1, x0:x1][m] = label
        self.color[y0:y1, x0:x1][m] = color
        self.depth[y0:y1, x0:x1][m] = depth

    def _fix(self, pts: np.ndarray, offset: np.ndarray) -> np.ndarray:
        p = (pts - offset) * (1 << self.SHIFT)
        return np.clip(np.round(p), -2**28, 2**28).astype(np.int32)

    def poly(self, pts: np.ndarray, label: int, color: Sequence[float],
             depth: float) -> None:
        pts = np.asarray(pts, np.float64).reshape(-1, 2)
        bbox = (*pts.min(0), *pts.max(0))

        def draw(mask, off):
            cv2.fillPoly(mask, [self._fix(pts, off)], 1, cv2.LINE_8,
                         self.SHIFT)

        self._paint(bbox, draw, label, color, depth)

    def ellipse(self,
                center: Tuple[float, float],
                axes: Tuple[float, float],
                label: int,
                color: Sequence[float],
                depth: float,
                thickness: float = -1) -> None:
        cx, cy = center
        ax, ay = max(axes[0], 0.5), max(axes[1], 0.5)
        pad = max(thickness, 0) + 1
        bbox = (cx - ax - pad, cy - ay - pad, cx + ax + pad, cy + ay + pad)

        def draw(mask, off):
            c = self._fix(np.array([[cx, cy]]), off)[0]
            a = np.round(np.array([ax, ay]) * (1 << self.SHIFT)).astype(int)
            t = -1 if thickness < 0 else max(int(round(thickness)), 1)
            cv2.ellipse(mask, (int(c[0]), int(c[1])), (int(a[0]), int(a[1])),
                        0, 0, 360, 1, t, cv2.LINE_8, self.SHIFT)

        self._paint(bbox, draw, label, color, depth)

    def line(self, p0: Tuple[float, float], p1: Tuple[float,
                                                      float], thickness: float,
             label: int, color: Sequence[float], depth: float) -> None:
        pts = np.array([p0, p1], np.float64)
        pad = thickness + 1
        bbox = (*(pts.min(0) - pad), *(pts.max(0) + pad))

        def draw(mask, off):
            q = self._fix(pts, off)
            cv2.line(mask, tuple(int(v) for v in q[0]),
                     tuple(int(v) for v in q[1]), 1,
                     max(int(round(thickness)), 1), cv2.LINE_8, self.SHIFT)

        self._paint(bbox, draw, label, color, depth)


class Camera:
    """A pinhole camera at height ``hc`` looking along +z over flat ground.

    World: x right from the road center, y up, z forward (metres); the camera
    sits at lateral position ``x``. ``project`` maps world points to pixels;
    the horizon row is ``yh`` and the vanishing point column ``xv``.
    """

    def __init__(self,
                 f: float,
                 xv: float,
                 yh: float,
                 hc: float,
                 x: float = 0.0) -> None:
        self.f, self.xv, self.yh, self.hc, self.x = f, xv, yh, hc, x

    def project(self, x, y, z) -> np.ndarray:
        x, y, z = (np.asarray(v, np.float64) for v in (x, y, z))
        z = np.maximum(z, 0.3)
        return np.stack([
            self.xv + self.f * (x - self.x) / z, self.yh + self.f *
            (self.hc - y) / z
        ], -1)

    def scale(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.f / max(z, 0.3)


class SceneState:
    """The state the parts of the scene renderer share.

    Set by :class:`~mmseg_fdacl.demo.synthetic.scene.SceneRenderer`; the
    layout, street-furniture, people and vehicle mixins read it and add
    ``(depth, draw)`` pairs to ``objects`` (drawn far to near).
    """

    rng: np.random.Generator
    h: int
    w: int
    canvas: Canvas
    cam: Camera
    road_w: float
    sidewalk_w: float
    objects: List[Tuple[float, Callable[[], None]]]
