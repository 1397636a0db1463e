"""Street furniture (poles with signs and traffic lights, trees), pedestrians
and the recording car's bonnet."""
from typing import Callable

import numpy as np

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX
from .appearance import SKIN, class_color
from .classes import BICYCLE, LIGHT, PERSON, POLE, SIGN, VEGETATION
from .geometry import SceneState


class StreetFurnitureMixin(SceneState):
    """Poles and trees along the curbs."""

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
                    x = side * (
                        self.road_w / 2 + self.sidewalk_w -
                        rng.uniform(0.6, 1.2))
                    self.objects.append((z, self._tree_fn(x, z)))
                    z += rng.uniform(8, 18)

    def _pole_fn(self, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        ht = rng.uniform(4.5, 8.0)
        wd = rng.uniform(0.1, 0.2)
        r = rng.random()
        carries = 'light' if r < 0.3 else ('sign' if r < 0.75 else None)
        pcol = class_color(rng, POLE)
        scol = class_color(rng, SIGN)
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
                c.poly(p, LIGHT, class_color(rng, LIGHT), z)
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
        col = class_color(rng, VEGETATION)
        trunk = np.array([96, 70, 44], np.float32) + rng.normal(0, 6, 3)

        def draw():
            p = cam.project([x - 0.15, x + 0.15, x + 0.15, x - 0.15],
                            [0, 0, trunk_h + crown, trunk_h + crown], z)
            c.poly(p, VEGETATION, trunk, z)
            cx, cy = cam.project(x, trunk_h + crown, z)
            s = cam.scale(z)
            c.ellipse((cx, cy), (crown * s, crown * 1.1 * s), VEGETATION, col,
                      z)

        return draw


class PeopleMixin(SceneState):
    """Pedestrians, parked bicycles and the ego vehicle's bonnet."""

    def _people(self) -> None:
        rng = self.rng
        for _ in range(rng.poisson(0.3)):  # bicycles parked on the sidewalk
            side = -1 if rng.random() < 0.5 else 1
            x = side * (self.road_w / 2 + rng.uniform(0.5, self.sidewalk_w))
            z = rng.uniform(4, 30)
            self.objects.append((z,
                                 self._two_wheeler_fn(
                                     BICYCLE,
                                     x,
                                     z,
                                     class_color(rng, BICYCLE),
                                     ridden=False)))
        n = rng.poisson(3.0)
        for _ in range(n):
            side = -1 if rng.random() < 0.5 else 1
            if rng.random() < 0.12:  # crossing the road
                x = rng.uniform(-self.road_w / 2, self.road_w / 2)
            else:
                x = side * (
                    self.road_w / 2 + rng.uniform(0.4, self.sidewalk_w))
            z = rng.uniform(3, 45)
            group = 1 + (rng.random() < 0.25) * rng.integers(1, 3)
            for k in range(group):
                self.objects.append(
                    (z + 0.3 * k, self._person_fn(x + 0.6 * k, z + 0.3 * k)))

    def _person_fn(self, x: float, z: float) -> Callable[[], None]:
        rng, cam, c = self.rng, self.cam, self.canvas
        ht = rng.uniform(1.55, 1.95)
        shirt = class_color(rng, PERSON)
        pants = class_color(rng, PERSON)
        skin = np.array(SKIN[rng.integers(len(SKIN))], np.float32)
        stride = rng.uniform(0.0, 0.25)

        def draw():
            s = cam.scale(z)
            gx, gy = cam.project(x, 0, z)
            hip = gy - 0.48 * ht * s
            t = max(0.13 * s, 1)
            for d in (-1, 1):
                c.line((gx + d * 0.07 * s, hip),
                       (gx + d * (0.07 + stride) * s, gy), t, PERSON, pants, z)
            sh = gy - 0.82 * ht * s
            c.poly([(gx - 0.2 * s, sh),
                    (gx + 0.2 * s, sh), (gx + 0.16 * s, hip),
                    (gx - 0.16 * s, hip)], PERSON, shirt, z)
            for d in (-1, 1):
                c.line((gx + d * 0.2 * s, sh),
                       (gx + d * 0.25 * s, hip + 0.05 * s), t * 0.8, PERSON,
                       shirt, z)
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
