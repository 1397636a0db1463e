"""The embedded two-domain street-scene benchmark (GTA5-like -> Cityscapes-like).

No dataset can be downloaded here, so the default data are rendered: street
scenes seen by a pinhole camera over a flat ground plane, with Cityscapes' 19
classes in a plausible layout (sky, a skyline and facades along the street,
road with sidewalks and terrain strips, poles carrying signs and lights, trees,
parked and moving vehicles, pedestrians, rare riders and trains). Both domains
draw scenes from the same sampler, so their label distributions are equal; only
the appearance differs:

* ``'source'`` (game-like): flat saturated per-class colours with a small
  per-instance variation, simple face shading, sharp (aliased) edges.
* ``'target'`` (camera-like): the same scene sampler rendered through a camera
  model: per-class texture, depth-dependent haze, an illumination gradient, a
  different colour response (desaturation, channel gains, gamma, exposure),
  vignetting, lens blur and sensor noise.

Most of the shift is global and low-frequency (colour response, illumination),
the part Fourier domain adaptation swaps; texture, blur and noise are the part
it cannot, so the gap is real but partly closable. Classes also differ by shape
and context (windows on buildings, wheels and cabins on cars, poles carrying
signs), so colour is not the only cue.

Files are written in the real layouts and label encodings: GTA5
``gta5/images/NNNNN.png`` + ``gta5/labels/NNNNN.png`` (Cityscapes label ids
in a palette PNG, as GTA5 ships them;
``tools/dataset_converters/gta5.py`` makes ``*_labelTrainIds.png``), Cityscapes
``cityscapes/leftImg8bit/{split}/{city}/{city}_NNNNNN_000019_leftImg8bit.png``
+ ``cityscapes/gtFine/...`` with ``_gtFine_labelIds.png`` and
``_gtFine_labelTrainIds.png``.
"""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .gta5 import convert_label_ids

CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
           'traffic light', 'traffic sign', 'vegetation', 'terrain', 'sky',
           'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
           'bicycle')
NUM_CLASSES = len(CLASSES)
IGNORE_INDEX = 255
(ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN,
 SKY, PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE) = range(19)

# Cityscapes label ids of the 19 train ids, and the ids of two ignored regions.
TRAINID_TO_LABELID = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26,
                      27, 28, 31, 32, 33)
EGO_VEHICLE_LABELID = 1

DOMAINS = ('source', 'target')
_DOMAIN_CODE = {'source': 0, 'target': 1}
_SPLIT_CODE = {'source': 0, 'train': 1, 'val': 2}
TRAIN_CITIES = ('aachen', 'bochum', 'bremen', 'hamburg')
VAL_CITIES = ('frankfurt', 'lindau', 'munster')

# Base RGB colours per class: a palette (one entry drawn per instance) and the
# per-channel standard deviation of the instance variation. Several classes
# share hues (grey building / wall / pole / road, white car / sidewalk), so a
# model has to use shape and context as well as colour.
_PALETTES: Dict[int, Tuple[List[Tuple[int, int, int]], float]] = {
    ROAD: ([(72, 70, 76)], 4.0),
    SIDEWALK: ([(160, 150, 146), (150, 140, 120)], 5.0),
    BUILDING: ([(150, 112, 88), (178, 166, 150), (112, 112, 124),
                (180, 118, 86), (200, 190, 160)], 10.0),
    WALL: ([(166, 156, 128), (130, 126, 120)], 6.0),
    FENCE: ([(128, 96, 62), (150, 150, 158)], 6.0),
    POLE: ([(96, 96, 100), (60, 70, 64)], 4.0),
    LIGHT: ([(36, 36, 32)], 3.0),
    SIGN: ([(24, 64, 210), (214, 30, 30), (236, 206, 24)], 5.0),
    VEGETATION: ([(52, 142, 40), (70, 120, 30), (40, 110, 56)], 8.0),
    TERRAIN: ([(146, 166, 70), (160, 140, 90)], 6.0),
    SKY: ([(92, 162, 242)], 6.0),
    PERSON: ([(210, 40, 40), (30, 60, 170), (40, 40, 44), (220, 220, 210),
              (60, 130, 60), (200, 160, 30)], 10.0),
    RIDER: ([(220, 110, 20), (30, 30, 34), (160, 30, 120)], 10.0),
    CAR: ([(204, 22, 22), (22, 44, 166), (232, 232, 232), (32, 32, 34),
           (150, 152, 162), (24, 120, 64)], 8.0),
    TRUCK: ([(222, 222, 222), (204, 120, 22), (42, 84, 160)], 8.0),
    BUS: ([(232, 182, 22), (200, 32, 32), (32, 102, 204)], 6.0),
    TRAIN: ([(204, 206, 214), (222, 44, 44)], 5.0),
    MOTORCYCLE: ([(30, 30, 30), (182, 22, 22)], 6.0),
    BICYCLE: ([(42, 42, 42), (22, 82, 182)], 6.0),
}
_SKIN = [(224, 172, 140), (170, 120, 90), (110, 76, 56)]

# Target-domain texture strength per class (relative modulation).
_TEXTURE = np.array([0.10, 0.08, 0.10, 0.08, 0.12, 0.05, 0.05, 0.04, 0.35,
                     0.25, 0.02, 0.10, 0.10, 0.05, 0.06, 0.05, 0.05, 0.08,
                     0.08], np.float32)


class _Canvas:
    """Label, colour and depth buffers with painter's-algorithm primitives.

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
        x1, y1 = min(int(np.ceil(x1)) + 1, self.w), min(
            int(np.ceil(y1)) + 1, self.h)
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

    def ellipse(self, center: Tuple[float, float], axes: Tuple[float, float],
                label: int, color: Sequence[float], depth: float,
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

    def line(self, p0: Tuple[float, float], p1: Tuple[float, float],
             thickness: float, label: int, color: Sequence[float],
             depth: float) -> None:
        pts = np.array([p0, p1], np.float64)
        pad = thickness + 1
        bbox = (*(pts.min(0) - pad), *(pts.max(0) + pad))

        def draw(mask, off):
            q = self._fix(pts, off)
            cv2.line(mask, tuple(int(v) for v in q[0]),
                     tuple(int(v) for v in q[1]), 1,
                     max(int(round(thickness)), 1), cv2.LINE_8, self.SHIFT)

        self._paint(bbox, draw, label, color, depth)


class _Camera:
    """A pinhole camera at height ``hc`` looking along +z over flat ground.

    World: x right from the road centre, y up, z forward (metres); the camera
    sits at lateral position ``x``. ``project`` maps world points to pixels;
    the horizon row is ``yh`` and the vanishing point column ``xv``.
    """

    def __init__(self, f: float, xv: float, yh: float, hc: float,
                 x: float = 0.0) -> None:
        self.f, self.xv, self.yh, self.hc, self.x = f, xv, yh, hc, x

    def project(self, x, y, z) -> np.ndarray:
        x, y, z = (np.asarray(v, np.float64) for v in (x, y, z))
        z = np.maximum(z, 0.3)
        return np.stack([self.xv + self.f * (x - self.x) / z,
                         self.yh + self.f * (self.hc - y) / z], -1)

    def scale(self, z: float) -> float:
        """Pixels per metre at depth ``z``."""
        return self.f / max(z, 0.3)


def _class_color(rng: np.random.Generator, cls: int) -> np.ndarray:
    palette, std = _PALETTES[cls]
    base = np.array(palette[rng.integers(len(palette))], np.float32)
    return np.clip(base + rng.normal(0, std, 3), 0, 255).astype(np.float32)


def _shade(color: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(color * factor, 0, 255).astype(np.float32)


class _SceneRenderer:
    """Samples one street scene and rasterises it into a :class:`_Canvas`."""

    def __init__(self, rng: np.random.Generator, size: Tuple[int, int]):
        self.rng = rng
        h, w = size
        self.h, self.w = h, w
        self.canvas = _Canvas(h, w)
        self.road_w = rng.uniform(7.0, 13.0)
        self.cam = _Camera(
            f=w * rng.uniform(0.9, 1.15),
            xv=w * (0.5 + rng.uniform(-0.08, 0.08)),
            yh=h * rng.uniform(0.38, 0.47),
            hc=rng.uniform(1.3, 1.7),
            x=self.road_w / 4 * rng.uniform(0.6, 1.2))  # the right lane
        self.sidewalk_w = rng.uniform(2.0, 4.5)
        self.objects: List[Tuple[float, Callable[[], None]]] = []

    # -- scene layout -------------------------------------------------------
    def render(self) -> _Canvas:
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

    def _sky(self) -> None:
        c = self.canvas
        top = _class_color(self.rng, SKY)
        bottom = np.clip(top + np.array([60, 50, 10]), 0, 255)
        t = np.linspace(0, 1, self.h, dtype=np.float32)[:, None, None]
        c.color[:] = top * (1 - t) + bottom * t
        c.label[:] = SKY

    def _side_layout(self, side: int) -> dict:
        rng = self.rng
        curb = self.road_w / 2 + self.sidewalk_w
        setback = rng.uniform(1.0, 4.0) if rng.random() < 0.4 else 0.0
        return dict(curb=curb, setback=setback, facade_x=curb + setback)

    def _ground(self, side_info: Sequence[dict]) -> None:
        """Label every pixel below the horizon by its ground position."""
        c, cam, rng = self.canvas, self.cam, self.rng
        y0 = int(np.floor(cam.yh)) + 1
        if y0 >= self.h:
            return
        ys = np.arange(y0, self.h, dtype=np.float64) + 0.5
        z = cam.f * cam.hc / (ys - cam.yh)
        xs = np.arange(self.w, dtype=np.float64) + 0.5
        gx = (xs[None, :] - cam.xv) * z[:, None] / cam.f + cam.x
        gz = np.broadcast_to(z[:, None], gx.shape)
        lab = np.full(gx.shape, TERRAIN, np.uint8)
        left, right = side_info
        for side, info in ((-1, left), (1, right)):
            sel = gx * side >= 0
            ax = np.abs(gx)
            lab[sel & (ax < info['facade_x'])] = TERRAIN
            lab[sel & (ax < info['curb'])] = SIDEWALK
        lab[np.abs(gx) < self.road_w / 2] = ROAD
        if rng.random() < 0.15:  # a grass median strip
            lab[np.abs(gx) < rng.uniform(0.6, 1.2)] = TERRAIN
        colors = {k: _class_color(rng, k) for k in (ROAD, SIDEWALK, TERRAIN)}
        img = np.zeros(gx.shape + (3, ), np.float32)
        for k, col in colors.items():
            img[lab == k] = col
        # Lane markings, curb stones and crossings: road texture with shape.
        lane = (np.abs(np.abs(gx) - self.road_w / 4) < 0.08) & (
            np.mod(gz, 9.0) < 3.0) & (lab == ROAD)
        centre = (np.abs(gx) < 0.08) & (lab == ROAD)
        img[lane | centre] = (230, 230, 220)
        curb = (np.abs(np.abs(gx) - self.road_w / 2) < 0.15) & (lab == SIDEWALK)
        img[curb] = _shade(colors[SIDEWALK], 1.2)
        if rng.random() < 0.3:
            zc = rng.uniform(6, 25)
            stripes = (np.abs(gz - zc) < 1.5) & (np.mod(gx, 1.0) < 0.5) & (
                lab == ROAD)
            img[stripes] = (225, 225, 225)
        c.label[y0:] = lab
        c.color[y0:] = img
        c.depth[y0:] = gz

    def _skyline(self) -> None:
        """Distant buildings and trees closing the street at the horizon."""
        rng, cam = self.rng, self.cam
        zf = rng.uniform(120, 260)
        x = -zf * 1.2
        while x < zf * 1.2:
            wd = rng.uniform(8, 30)
            cls = BUILDING if rng.random() < 0.7 else VEGETATION
            ht = rng.uniform(10, 40) if cls == BUILDING else rng.uniform(6, 15)
            p = cam.project([x, x + wd, x + wd, x], [0, 0, ht, ht], zf)
            self.canvas.poly(p, cls, _class_color(rng, cls), zf)
            x += wd

    def _facades(self, side: int, info: dict) -> None:
        """Buildings, trees, walls and fences lining one side of the street."""
        rng = self.rng
        z = rng.uniform(0.5, 4.0)
        xf = side * info['facade_x']
        zmax = rng.uniform(90, 140)
        segments = []
        while z < zmax:
            length = rng.uniform(8, 30)
            r = rng.random()
            if r < 0.56:
                kind = BUILDING
            elif r < 0.81:
                kind = VEGETATION
            elif r < 0.88:
                kind = WALL
            elif r < 0.98:
                kind = FENCE
            else:
                kind = None  # an opening: the sky and terrain behind
            segments.append((z, z + length, kind))
            z += length + (rng.uniform(3, 12) if rng.random() < 0.15 else 0)
        for z0, z1, kind in reversed(segments):  # far to near
            if kind is None:
                continue
            if kind in (WALL, FENCE):
                behind = BUILDING if rng.random() < 0.5 else VEGETATION
                self._facade(side, xf + side * rng.uniform(2, 6), z0, z1,
                             behind)
                self._facade(side, xf, z0, z1, kind)
            else:
                self._facade(side, xf, z0, z1, kind)

    def _facade(self, side: int, x: float, z0: float, z1: float,
                kind: int) -> None:
        rng, cam, c = self.rng, self.cam, self.canvas
        color = _class_color(rng, kind)
        if kind == BUILDING:
            ht = rng.uniform(7, 26)
        elif kind == VEGETATION:
            ht = rng.uniform(3, 12)
        elif kind == WALL:
            ht = rng.uniform(1.0, 3.0)
        else:
            ht = rng.uniform(1.2, 2.4)
        shade = 0.85 if side > 0 else 1.0
        zn = max(z0, 0.5)
        if kind == VEGETATION:
            n = max(int((z1 - zn) / 1.5), 2)
            zs = np.linspace(zn, z1, n)
            tops = ht + rng.normal(0, ht * 0.15, n)
            p = np.concatenate([
                cam.project([x, x], [0, 0], [zn, z1]),
                cam.project(np.full(n, x), tops, zs)[::-1]
            ])
            c.poly(p, kind, _shade(color, shade), zn)
            return
        p = cam.project([x] * 4, [0, 0, ht, ht], [zn, z1, z1, zn])
        c.poly(p, kind, _shade(color, shade), zn)
        if kind == BUILDING:
            win = np.clip(color * 0.45 + np.array([10, 20, 40]), 0, 255)
            for y in np.arange(2.5, ht - 1.5, 3.2):
                for zz in np.arange(np.ceil(zn / 3.5) * 3.5 + 0.8, z1 - 1.5,
                                    3.5):
                    if cam.scale(zz) * 1.2 < 1.0:
                        continue
                    q = cam.project([x] * 4, [y, y, y + 1.5, y + 1.5],
                                    [zz, zz + 1.6, zz + 1.6, zz])
                    c.poly(q, BUILDING, win, zz)
        elif kind == FENCE:
            bar = _shade(color, 0.6)
            for zz in np.arange(np.ceil(zn), z1, 1.0):
                q = cam.project([x, x], [0, ht], [zz, zz])
                c.line(q[0], q[1], max(cam.scale(zz) * 0.06, 1), FENCE,
                       bar, zz)

    def _street_furniture(self) -> None:
        """Poles with signs and traffic lights, and trees on the sidewalk."""
        rng = self.rng
        for side in (-1, 1):
            z = rng.uniform(3, 15)
            while z < 80:
                x = side * (self.road_w / 2 + rng.uniform(0.3, 0.7))
                self.objects.append((z, self._pole_fn(x, z)))
                z += rng.uniform(12, 30)
            if rng.random() < 0.5:
                z = rng.uniform(4, 12)
                while z < 70:
                    x = side * (self.road_w / 2 + self.sidewalk_w -
                                rng.uniform(0.6, 1.2))
                    self.objects.append((z, self._tree_fn(x, z)))
                    z += rng.uniform(8, 18)

    def _pole_fn(self, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        ht = rng.uniform(4.5, 8.0)
        wd = rng.uniform(0.1, 0.2)
        r = rng.random()
        carries = 'light' if r < 0.3 else ('sign' if r < 0.75 else None)
        pcol = _class_color(rng, POLE)
        scol = _class_color(rng, SIGN)
        shape = rng.integers(3)
        lamp = [(230, 30, 20), (240, 180, 20), (40, 220, 90)][rng.integers(3)]
        arm = rng.random() < 0.4
        ys = rng.uniform(2.0, 3.2)

        def draw():
            p = cam.project([x - wd / 2, x + wd / 2, x + wd / 2, x - wd / 2],
                            [0, 0, ht, ht], z)
            c.poly(p, POLE, pcol, z)
            s = cam.scale(z)
            if carries == 'sign':
                cx, cy = cam.project(x, ys, z)
                r = 0.35 * s
                if shape == 0:
                    c.ellipse((cx, cy), (r, r), SIGN, scol, z)
                elif shape == 1:
                    c.poly([(cx - r, cy + r * 0.8), (cx + r, cy + r * 0.8),
                            (cx, cy - r)], SIGN, scol, z)
                else:
                    c.poly([(cx - r, cy - r * 0.7), (cx + r, cy - r * 0.7),
                            (cx + r, cy + r * 0.7), (cx - r, cy + r * 0.7)],
                           SIGN, scol, z)
                c.ellipse((cx, cy), (r * 0.45, r * 0.45), SIGN,
                          (240, 240, 240), z)
            elif carries == 'light':
                lx = x - np.sign(x) * (rng_arm if arm else 0.0)
                if arm:
                    q = cam.project([x, lx], [ht - 0.2, ht - 0.2], z)
                    c.line(q[0], q[1], max(0.12 * s, 1), POLE, pcol, z)
                top = ht - 0.3 if arm else ht - 1.0
                p = cam.project([lx - 0.18, lx + 0.18, lx + 0.18, lx - 0.18],
                                [top - 1.0, top - 1.0, top, top], z)
                c.poly(p, LIGHT, _class_color(rng, LIGHT), z)
                for k in range(3):
                    cx, cy = cam.project(lx, top - 0.2 - 0.3 * k, z)
                    col = lamp if k == [0, 1, 2][shape] else (60, 60, 55)
                    c.ellipse((cx, cy), (0.1 * s, 0.1 * s), LIGHT, col, z)

        rng_arm = rng.uniform(2.0, 4.0)
        return draw

    def _tree_fn(self, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        trunk_h = rng.uniform(2.0, 3.5)
        crown = rng.uniform(1.3, 2.8)
        col = _class_color(rng, VEGETATION)
        trunk = np.array([96, 70, 44], np.float32) + rng.normal(0, 6, 3)

        def draw():
            p = cam.project([x - 0.15, x + 0.15, x + 0.15, x - 0.15],
                            [0, 0, trunk_h + crown, trunk_h + crown], z)
            c.poly(p, VEGETATION, trunk, z)
            cx, cy = cam.project(x, trunk_h + crown, z)
            s = cam.scale(z)
            c.ellipse((cx, cy), (crown * s, crown * 1.1 * s), VEGETATION,
                      col, z)

        return draw

    def _box(self, x0: float, x1: float, y0: float, y1: float, z0: float,
             z1: float, cls: int, color: np.ndarray) -> None:
        """A world-aligned box: its near face, visible side face and top."""
        cam, c = self.cam, self.canvas
        z0 = max(z0, 0.5)
        if x1 < cam.x:
            p = cam.project([x1] * 4, [y0, y0, y1, y1], [z0, z1, z1, z0])
            c.poly(p, cls, _shade(color, 0.75), z0)
        elif x0 > cam.x:
            p = cam.project([x0] * 4, [y0, y0, y1, y1], [z0, z1, z1, z0])
            c.poly(p, cls, _shade(color, 0.75), z0)
        if y1 < cam.hc:
            p = cam.project([x0, x1, x1, x0], [y1] * 4, [z0, z0, z1, z1])
            c.poly(p, cls, _shade(color, 1.12), z0)
        p = cam.project([x0, x1, x1, x0], [y0, y0, y1, y1], z0)
        c.poly(p, cls, color, z0)

    def _vehicles(self) -> None:
        rng = self.rng
        lanes = [-self.road_w / 4, self.road_w / 4]
        parked = [-(self.road_w / 2 - 1.1), self.road_w / 2 - 1.1]
        slots = []
        for x in lanes:
            z = rng.uniform(4, 12) + (6 if x > 0 else 0)  # not on our bonnet
            while z < 90:
                if rng.random() < 0.4:
                    slots.append((x + rng.normal(0, 0.3), z, False))
                z += rng.uniform(8, 22)
        for x in parked:
            if rng.random() < 0.6:
                z = rng.uniform(3, 10)
                while z < 60:
                    if rng.random() < 0.6:
                        slots.append((x, z, True))
                    z += rng.uniform(5, 8)
        if rng.random() < 0.05:  # a tram on tracks along the road centre
            slots.append((rng.normal(0, 0.5), rng.uniform(8, 40), 'train'))
        for _ in range(rng.poisson(0.35)):  # cyclists along the curb
            side = -1 if rng.random() < 0.5 else 1
            slots.append((side * (self.road_w / 2 - 0.6), rng.uniform(5, 30),
                          'two'))
        for x, z, kind in slots:
            if kind == 'train':
                cls = TRAIN
            elif kind == 'two':
                cls = MOTORCYCLE if rng.random() < 0.3 else BICYCLE
            elif kind is True:
                cls = CAR if rng.random() < 0.97 else TRUCK
            else:
                r = rng.random()
                cls = (CAR if r < 0.84 else TRUCK if r < 0.9 else
                       BUS if r < 0.94 else MOTORCYCLE if r < 0.97 else
                       BICYCLE)
            self.objects.append((z, self._vehicle_fn(cls, x, z)))

    def _vehicle_fn(self, cls: int, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        col = _class_color(rng, cls)
        dark = np.array([28, 30, 36], np.float32)
        glass = np.clip(col * 0.3 + np.array([30, 40, 60]), 0, 255)
        if cls == CAR:
            w, h, L = rng.uniform(1.6, 1.95), rng.uniform(1.35, 1.6), 4.3
        elif cls == TRUCK:
            w, h, L = 2.4, rng.uniform(2.8, 3.8), rng.uniform(6, 10)
        elif cls == BUS:
            w, h, L = 2.55, rng.uniform(3.0, 3.3), 12.0
        elif cls == TRAIN:
            w, h, L = 2.6, 3.4, rng.uniform(25, 40)
        else:
            w, h, L = 0.7, 1.1, 1.9
        if cls in (MOTORCYCLE, BICYCLE):
            return self._two_wheeler_fn(cls, x, z, col)

        def draw():
            x0, x1 = x - w / 2, x + w / 2
            s = cam.scale(z)
            if cls == CAR:
                self._box(x0, x1, 0.3, h * 0.6, z, z + L, CAR, col)
                self._box(x0 + 0.15, x1 - 0.15, h * 0.6, h, z + 0.9,
                          z + L - 1.2, CAR, col)
                p = cam.project([x0 + 0.3, x1 - 0.3, x1 - 0.3, x0 + 0.3],
                                [h * 0.64, h * 0.64, h * 0.95, h * 0.95],
                                z + 0.9)
                c.poly(p, CAR, glass, z)
                for xx in (x0 + 0.1, x1 - 0.35):  # wheels and tail lights
                    p = cam.project([xx, xx + 0.25, xx + 0.25, xx],
                                    [0, 0, 0.35, 0.35], z + 0.3)
                    c.poly(p, CAR, dark, z)
                    p = cam.project([xx, xx + 0.25, xx + 0.25, xx],
                                    [0.75, 0.75, 0.9, 0.9], z)
                    c.poly(p, CAR, (220, 30, 30), z)
            elif cls == TRUCK:
                self._box(x0, x1, 0.4, 2.8, z + L - 2.2, z + L, TRUCK, col)
                self._box(x0, x1, 0.5, h, z, z + L - 2.4, TRUCK,
                          _class_color(rng, TRUCK))
                for xx in (x0 + 0.1, x1 - 0.45):
                    p = cam.project([xx, xx + 0.35, xx + 0.35, xx],
                                    [0, 0, 0.55, 0.55], z + 0.5)
                    c.poly(p, TRUCK, dark, z)
            else:  # bus and train: a long box with a band of windows
                y0 = 0.35 if cls == BUS else 0.5
                self._box(x0, x1, y0, h, z, z + L, cls, col)
                p = cam.project([x0 + 0.2, x1 - 0.2, x1 - 0.2, x0 + 0.2],
                                [h * 0.55, h * 0.55, h * 0.9, h * 0.9], z)
                c.poly(p, cls, glass, z)
                xs = (x1 if x1 < cam.x else x0 if x0 > cam.x else None)
                if xs is not None:
                    for zz in np.arange(z + 1.0, z + L - 1.0, 1.8):
                        if cam.scale(zz) < 1.0:
                            break
                        p = cam.project([xs] * 4, [h * 0.55, h * 0.55,
                                                   h * 0.9, h * 0.9],
                                        [zz, zz + 1.3, zz + 1.3, zz])
                        c.poly(p, cls, glass, zz)
                if cls == BUS:
                    for xx in (x0 + 0.1, x1 - 0.45):
                        p = cam.project([xx, xx + 0.35, xx + 0.35, xx],
                                        [0, 0, 0.5, 0.5], z + 0.5)
                        c.poly(p, BUS, dark, z)
            del s

        return draw

    def _two_wheeler_fn(self,
                        cls: int,
                        x: float,
                        z: float,
                        col: np.ndarray,
                        ridden: Optional[bool] = None) -> Callable[[], None]:
        """A side-on bicycle or motorcycle, usually with its rider."""
        rng, cam, c = self.rng, self.cam, self.canvas
        if ridden is None:
            ridden = rng.random() < 0.9
        rider_col = _class_color(rng, RIDER)
        skin = np.array(_SKIN[rng.integers(len(_SKIN))], np.float32)
        facing = 1 if rng.random() < 0.5 else -1

        def draw():
            s = cam.scale(z)
            r = 0.33 * s
            gx, gy = cam.project(x, 0, z)
            wx = (gx - 0.55 * s, gx + 0.55 * s)
            cy = gy - r
            t = max(0.06 * s, 1)
            if cls == MOTORCYCLE:
                for wcx in wx:
                    c.ellipse((wcx, cy), (r, r), MOTORCYCLE, (25, 25, 25), z)
                c.poly([(wx[0], cy), (wx[1], cy), (wx[1] - 0.1 * s,
                                                   cy - 0.5 * s),
                        (wx[0] + 0.2 * s, cy - 0.45 * s)], MOTORCYCLE, col, z)
            else:
                for wcx in wx:
                    c.ellipse((wcx, cy), (r, r), BICYCLE, col, z, t)
                seat = (gx - 0.15 * s, cy - 0.5 * s)
                bar = (gx + 0.4 * s, cy - 0.55 * s)
                for a, b in ((wx[0], seat), (seat, (gx, cy)),
                             ((gx, cy), (wx[1], cy)), ((gx, cy), bar),
                             (bar, (wx[1], cy)), ((wx[0], cy), (gx, cy))):
                    a = a if isinstance(a, tuple) else (a, cy)
                    c.line(a, b, t, BICYCLE, col, z)
            if ridden:
                hip = (gx - 0.1 * facing * s, cy - 0.55 * s)
                c.line(hip, (gx + 0.1 * facing * s, cy), 0.14 * s, RIDER,
                       _shade(rider_col, 0.6), z)
                c.poly([(hip[0] - 0.18 * s, hip[1]),
                        (hip[0] + 0.18 * s, hip[1]),
                        (hip[0] + 0.2 * facing * s + 0.15 * s,
                         hip[1] - 0.65 * s),
                        (hip[0] + 0.2 * facing * s - 0.15 * s,
                         hip[1] - 0.65 * s)], RIDER, rider_col, z)
                c.ellipse((hip[0] + 0.25 * facing * s, hip[1] - 0.8 * s),
                          (0.12 * s, 0.14 * s), RIDER, skin, z)

        return draw

    def _people(self) -> None:
        rng = self.rng
        for _ in range(rng.poisson(0.3)):  # bicycles parked on the sidewalk
            side = -1 if rng.random() < 0.5 else 1
            x = side * (self.road_w / 2 + rng.uniform(0.5, self.sidewalk_w))
            z = rng.uniform(4, 30)
            self.objects.append((z, self._two_wheeler_fn(
                BICYCLE, x, z, _class_color(rng, BICYCLE), ridden=False)))
        n = rng.poisson(3.0)
        for _ in range(n):
            side = -1 if rng.random() < 0.5 else 1
            if rng.random() < 0.12:  # crossing the road
                x = rng.uniform(-self.road_w / 2, self.road_w / 2)
            else:
                x = side * (self.road_w / 2 + rng.uniform(0.4,
                                                          self.sidewalk_w))
            z = rng.uniform(3, 45)
            group = 1 + (rng.random() < 0.25) * rng.integers(1, 3)
            for k in range(group):
                self.objects.append(
                    (z + 0.3 * k, self._person_fn(x + 0.6 * k, z + 0.3 * k)))

    def _person_fn(self, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        ht = rng.uniform(1.55, 1.95)
        shirt = _class_color(rng, PERSON)
        pants = _class_color(rng, PERSON)
        skin = np.array(_SKIN[rng.integers(len(_SKIN))], np.float32)
        stride = rng.uniform(0.0, 0.25)

        def draw():
            s = cam.scale(z)
            gx, gy = cam.project(x, 0, z)
            hip = gy - 0.48 * ht * s
            t = max(0.13 * s, 1)
            for d in (-1, 1):
                c.line((gx + d * 0.07 * s, hip),
                       (gx + d * (0.07 + stride) * s, gy), t, PERSON, pants,
                       z)
            sh = gy - 0.82 * ht * s
            c.poly([(gx - 0.2 * s, sh), (gx + 0.2 * s, sh),
                    (gx + 0.16 * s, hip), (gx - 0.16 * s, hip)], PERSON, shirt,
                   z)
            for d in (-1, 1):
                c.line((gx + d * 0.2 * s, sh), (gx + d * 0.25 * s,
                                                hip + 0.05 * s), t * 0.8,
                       PERSON, shirt, z)
            hr = 0.11 * ht * s
            c.ellipse((gx, sh - hr * 1.1), (hr * 0.85, hr), PERSON, skin, z)

        return draw

    def _ego_hood(self) -> None:
        """The recording car's bonnet at the bottom edge (ignored in labels)."""
        h, w = self.h, self.w
        rh = self.rng.uniform(0.05, 0.1) * h
        col = (40, 42, 48)

        def draw():
            self.canvas.ellipse((w / 2, h + rh * 0.2), (w * 0.7, rh * 1.2),
                                IGNORE_INDEX, col, 1.0)

        self.objects.append((0.0, draw))


# -- appearance -------------------------------------------------------------
def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, int],
                  sigma: float) -> np.ndarray:
    n = rng.standard_normal(shape).astype(np.float32)
    if sigma > 0.3:
        n = cv2.GaussianBlur(n, (0, 0), sigma)
        n /= n.std() + 1e-6
    return n


def _camera_look(rng: np.random.Generator, canvas: _Canvas) -> np.ndarray:
    """Render the target ("camera-like") appearance of a scene.

    Steps, in order: per-class texture, depth haze, illumination gradient,
    colour response (desaturation, white balance gains, exposure, gamma),
    vignetting, lens blur, sensor noise.
    """
    h, w = canvas.label.shape
    scale = w / 512.0
    img = canvas.color.copy()
    lab = canvas.label
    tex_amp = np.where(lab < NUM_CLASSES,
                       _TEXTURE[np.minimum(lab, NUM_CLASSES - 1)], 0.05)
    fine = _smooth_noise(rng, (h, w), 0.7 * scale)
    coarse = _smooth_noise(rng, (h, w), 3.0 * scale)
    img *= (1 + tex_amp * (0.6 * fine + 0.6 * coarse))[..., None]
    # Haze towards a bright grey airlight; sky fully replaced at infinity.
    airlight = np.array([205, 210, 215], np.float32) + rng.normal(0, 5, 3)
    t = np.exp(-np.minimum(canvas.depth, 1e4) / rng.uniform(70, 160))
    t = np.where(lab == SKY, rng.uniform(0.15, 0.35), t)[..., None]
    img = img * t + airlight * (1 - t)
    # Illumination: a smooth gradient in a random direction.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    g = (np.cos(ang) * (xx / w - 0.5) + np.sin(ang) * (yy / h - 0.5))
    img *= (1 + rng.uniform(0.3, 0.6) * g)[..., None]
    # Colour response: desaturate, warm/green cast, exposure, gamma.
    luma = img @ np.array([0.299, 0.587, 0.114], np.float32)
    sat = rng.uniform(0.45, 0.65)
    img = luma[..., None] + sat * (img - luma[..., None])
    gains = np.array([1.12, 1.04, 0.78], np.float32) * rng.uniform(
        0.95, 1.05, 3)
    img *= gains * rng.uniform(0.75, 1.0)
    img = 255.0 * np.power(np.clip(img / 255.0, 0, 1), rng.uniform(1.25, 1.5))
    # Vignetting.
    r2 = ((xx / w - 0.5)**2 + (yy / h - 0.5)**2) / 0.5
    img *= (1 - rng.uniform(0.3, 0.5) * r2)[..., None]
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.0) * scale)
    img += rng.normal(0, rng.uniform(3, 6), img.shape).astype(np.float32)
    return np.clip(img, 0, 255)


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
    h, w = _check_size(size)
    canvas = _SceneRenderer(rng, (h, w)).render()
    if domain == 'source':
        img = canvas.color
    else:
        img = _camera_look(rng, canvas)
    return np.round(np.clip(img, 0, 255)).astype(np.uint8), canvas.label


def _check_size(size: Sequence[int]) -> Tuple[int, int]:
    if (len(size) != 2 or any(int(s) != s or s < 16 for s in size)):
        raise ValueError(f'size={tuple(size)!r} must be (H, W) with integers '
                         '>= 16')
    return int(size[0]), int(size[1])


def trainid_to_labelid(train_ids: np.ndarray) -> np.ndarray:
    """Map train ids to Cityscapes label ids (255 -> ego vehicle, id 1)."""
    lut = np.full(256, EGO_VEHICLE_LABELID, np.uint8)
    lut[:NUM_CLASSES] = TRAINID_TO_LABELID
    return lut[train_ids]


def image_rng(seed: int, domain: str, split: str,
              index: int) -> np.random.Generator:
    """Per-image generator: results do not depend on order or process."""
    ss = np.random.SeedSequence(
        entropy=seed,
        spawn_key=(_DOMAIN_CODE[domain], _SPLIT_CODE[split], index))
    return np.random.default_rng(ss)


def _write_png(path: str, arr: np.ndarray) -> None:
    if arr.ndim == 3:
        arr = arr[..., ::-1]  # RGB -> BGR for cv2
    if not cv2.imwrite(path, np.ascontiguousarray(arr)):
        raise OSError(f'could not write {path!r}; check the output folder '
                      'is writable')


def _write_palette_png(path: str, label_ids: np.ndarray) -> None:
    """Label ids as a palette PNG, the encoding of GTA5's ``labels/*.png``
    (pixel values are the ids; the palette shows Cityscapes' colours)."""
    from mmseg.datasets import CityscapesDataset
    from PIL import Image
    palette = np.zeros((256, 3), np.uint8)
    palette[list(TRAINID_TO_LABELID)] = CityscapesDataset.METAINFO['palette']
    img = Image.fromarray(label_ids, mode='P')
    img.putpalette(palette.ravel().tolist())
    try:
        img.save(path)
    except OSError as e:
        raise OSError(f'could not write {path!r} ({e}); check the output '
                      'folder is writable') from e


def _generate_one(task: dict) -> np.ndarray:
    """Render and write one image and its labels; return its class counts."""
    rng = image_rng(task['seed'], task['domain'], task['split'],
                    task['index'])
    img, train_ids = render_scene(rng, task['size'], task['domain'])
    label_ids = trainid_to_labelid(train_ids)
    os.makedirs(osp.dirname(task['img']), exist_ok=True)
    os.makedirs(osp.dirname(task['label_ids']), exist_ok=True)
    _write_png(task['img'], img)
    if task['domain'] == 'source':
        _write_palette_png(task['label_ids'], label_ids)
    else:
        _write_png(task['label_ids'], label_ids)
    if task.get('train_ids'):
        _write_png(task['train_ids'], convert_label_ids(label_ids))
    counts = np.bincount(train_ids.ravel(), minlength=256)
    return np.concatenate([counts[:NUM_CLASSES], [counts[IGNORE_INDEX]]])


def _tasks(out_dir: str, num_source: int, num_target_train: int,
           num_target_val: int, size: Tuple[int, int], seed: int,
           source_train_ids: bool) -> List[dict]:
    tasks = []
    gta = osp.join(out_dir, 'gta5')
    for i in range(num_source):
        name = f'{i + 1:05d}'
        tasks.append(
            dict(domain='source', split='source', index=i, seed=seed,
                 size=size, img=osp.join(gta, 'images', name + '.png'),
                 label_ids=osp.join(gta, 'labels', name + '.png'),
                 train_ids=osp.join(gta, 'labels', name +
                                    '_labelTrainIds.png')
                 if source_train_ids else None))
    cs = osp.join(out_dir, 'cityscapes')
    for split, num, cities in (('train', num_target_train, TRAIN_CITIES),
                               ('val', num_target_val, VAL_CITIES)):
        for i in range(num):
            city = cities[i % len(cities)]
            stem = f'{city}_{i // len(cities):06d}_000019'
            gt = osp.join(cs, 'gtFine', split, city, stem + '_gtFine_')
            tasks.append(
                dict(domain='target', split=split, index=i, seed=seed,
                     size=size,
                     img=osp.join(cs, 'leftImg8bit', split, city,
                                  stem + '_leftImg8bit.png'),
                     label_ids=gt + 'labelIds.png',
                     train_ids=gt + 'labelTrainIds.png'))
    return tasks


def _stats(counts: np.ndarray, present: np.ndarray, num: int) -> dict:
    total = int(counts[:NUM_CLASSES].sum())
    return dict(
        classes=list(CLASSES),
        num_images=num,
        pixel_counts=[int(v) for v in counts[:NUM_CLASSES]],
        ignored_pixels=int(counts[NUM_CLASSES]),
        frequencies=[float(v) / max(total, 1) for v in counts[:NUM_CLASSES]],
        images_with_class=[int(v) for v in present])


def generate_uda_data(out_dir: str,
                      *,
                      num_source: int,
                      num_target_train: int,
                      num_target_val: int,
                      size: Tuple[int, int] = (256, 512),
                      seed: int = 0,
                      nproc: int = 1,
                      source_train_ids: bool = False,
                      progress: bool = False) -> dict:
    """Write the two-domain data set in the GTA5 and Cityscapes layouts.

    Args:
        out_dir (str): Output root; ``gta5/`` and ``cityscapes/`` are made in
            it. Existing files of the same names are overwritten.
        num_source (int): Number of source (GTA5-layout) images.
        num_target_train (int): Number of target train images (unlabelled
            for adaptation; their labels are written for the oracle and
            pseudo-label evaluation).
        num_target_val (int): Number of target val images.
        size (tuple[int, int]): ``(H, W)`` of every image. Default:
            (256, 512).
        seed (int): Base seed; each image has its own seed derived from it,
            its domain, split and index. Default: 0.
        nproc (int): Worker processes (``mmengine.track_parallel_progress``).
            The output does not depend on it. Default: 1.
        source_train_ids (bool): Also write the source
            ``*_labelTrainIds.png`` (normally the GTA5 converter makes them).
            Default: False.
        progress (bool): Show a progress bar. Default: False.

    Returns:
        dict: ``source_root``, ``target_root``, ``size``, ``seed`` and the
        label statistics ``source``, ``target_train``, ``target_val``, each
        with ``classes``, ``num_images``, ``pixel_counts``,
        ``ignored_pixels``, ``frequencies`` (over labelled pixels) and
        ``images_with_class``. The same dict is saved as
        ``out_dir/synthetic_stats.json``.
    """
    for name, val in (('num_source', num_source),
                      ('num_target_train', num_target_train),
                      ('num_target_val', num_target_val)):
        if int(val) != val or val < 0:
            raise ValueError(f'{name}={val!r} must be an integer >= 0')
    if int(nproc) != nproc or nproc < 1:
        raise ValueError(f'nproc={nproc!r} must be an integer >= 1')
    size = _check_size(size)
    tasks = _tasks(out_dir, num_source, num_target_train, num_target_val,
                   size, seed, source_train_ids)
    if nproc > 1 and len(tasks) > 1:
        from mmseg_fdacl.utils.progress import track_parallel_progress
        results = track_parallel_progress(
            _generate_one, tasks, nproc, 'synthetic data', keep_order=True)
    elif progress:
        from mmseg_fdacl.utils.progress import track_progress
        results = track_progress(_generate_one, tasks, 'synthetic data')
    else:
        results = [_generate_one(t) for t in tasks]
    out = dict(
        source_root=osp.join(out_dir, 'gta5'),
        target_root=osp.join(out_dir, 'cityscapes'),
        size=list(size),
        seed=seed)
    for key, sel in (('source', 'source'), ('target_train', 'train'),
                     ('target_val', 'val')):
        rows = [r for t, r in zip(tasks, results) if t['split'] == sel]
        arr = np.array(rows, np.int64).reshape(-1, NUM_CLASSES + 1)
        out[key] = _stats(arr.sum(0), (arr[:, :NUM_CLASSES] > 0).sum(0),
                          len(rows))
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'synthetic_stats.json'), 'w') as f:
        json.dump(out, f, indent=1)
    return out


def format_class_table(stats: dict, title: Optional[str] = None) -> str:
    """A per-class pixel-frequency table (percent) of ``generate_uda_data``'s
    statistics, one row per split."""
    keys = [k for k in ('source', 'target_train', 'target_val')
            if k in stats and stats[k]['num_images']]
    lines = [title] if title else []
    lines.append(f'{"class":<14}' + ''.join(f'{k:>14}' for k in keys))
    for c, name in enumerate(CLASSES):
        lines.append(f'{name:<14}' + ''.join(
            f'{100 * stats[k]["frequencies"][c]:>13.2f}%' for k in keys))
    lines.append(f'{"images":<14}' +
                 ''.join(f'{stats[k]["num_images"]:>14}' for k in keys))
    return '\n'.join(lines)
