"""Vehicles: cars, trucks, buses and trams as boxes with windows and wheels,
bicycles and motorcycles side-on with their riders."""
from typing import Callable, Optional

import numpy as np

from .appearance import SKIN, class_color, shade
from .classes import BICYCLE, BUS, CAR, MOTORCYCLE, RIDER, TRAIN, TRUCK
from .geometry import SceneState

# Tires and wheel arches.
_DARK = np.array([28, 30, 36], np.float32)


class VehicleMixin(SceneState):
    """Moving and parked traffic on the road and along the curbs."""

    def _box(self, x0: float, x1: float, y0: float, y1: float, z0: float,
             z1: float, cls: int, color: np.ndarray) -> None:
        """A world-aligned box: its near face, visible side face and top."""
        cam, c = self.cam, self.canvas
        z0 = max(z0, 0.5)
        if x1 < cam.x:
            p = cam.project([x1] * 4, [y0, y0, y1, y1], [z0, z1, z1, z0])
            c.poly(p, cls, shade(color, 0.75), z0)
        elif x0 > cam.x:
            p = cam.project([x0] * 4, [y0, y0, y1, y1], [z0, z1, z1, z0])
            c.poly(p, cls, shade(color, 0.75), z0)
        if y1 < cam.hc:
            p = cam.project([x0, x1, x1, x0], [y1] * 4, [z0, z0, z1, z1])
            c.poly(p, cls, shade(color, 1.12), z0)
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
        if rng.random() < 0.05:  # a tram on tracks along the road center
            slots.append((rng.normal(0, 0.5), rng.uniform(8, 40), 'train'))
        for _ in range(rng.poisson(0.35)):  # cyclists along the curb
            side = -1 if rng.random() < 0.5 else 1
            slots.append(
                (side * (self.road_w / 2 - 0.6), rng.uniform(5, 30), 'two'))
        for x, z, kind in slots:
            if kind == 'train':
                cls = TRAIN
            elif kind == 'two':
                cls = MOTORCYCLE if rng.random() < 0.3 else BICYCLE
            elif kind is True:
                cls = CAR if rng.random() < 0.97 else TRUCK
            else:
                r = rng.random()
                cls = (
                    CAR if r < 0.84 else TRUCK if r < 0.9 else
                    BUS if r < 0.94 else MOTORCYCLE if r < 0.97 else BICYCLE)
            self.objects.append((z, self._vehicle_fn(cls, x, z)))

    def _vehicle_fn(self, cls: int, x: float, z: float) -> Callable[[], None]:
        rng = self.rng
        col = class_color(rng, cls)
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
        body = {
            CAR: self._draw_car,
            TRUCK: self._draw_truck
        }.get(cls, self._draw_long_vehicle)

        def draw():
            body(cls, x - w / 2, x + w / 2, z, h, L, col, glass)

        return draw

    def _draw_car(self, cls: int, x0: float, x1: float, z: float, h: float,
                  L: float, col: np.ndarray, glass: np.ndarray) -> None:
        """Body, cabin, rear window, wheels and tail lights."""
        cam, c = self.cam, self.canvas
        self._box(x0, x1, 0.3, h * 0.6, z, z + L, CAR, col)
        self._box(x0 + 0.15, x1 - 0.15, h * 0.6, h, z + 0.9, z + L - 1.2, CAR,
                  col)
        p = cam.project([x0 + 0.3, x1 - 0.3, x1 - 0.3, x0 + 0.3],
                        [h * 0.64, h * 0.64, h * 0.95, h * 0.95], z + 0.9)
        c.poly(p, CAR, glass, z)
        for xx in (x0 + 0.1, x1 - 0.35):  # wheels and tail lights
            p = cam.project([xx, xx + 0.25, xx + 0.25, xx], [0, 0, 0.35, 0.35],
                            z + 0.3)
            c.poly(p, CAR, _DARK, z)
            p = cam.project([xx, xx + 0.25, xx + 0.25, xx],
                            [0.75, 0.75, 0.9, 0.9], z)
            c.poly(p, CAR, (220, 30, 30), z)

    def _draw_truck(self, cls: int, x0: float, x1: float, z: float, h: float,
                    L: float, col: np.ndarray, glass: np.ndarray) -> None:
        """A cab and a cargo box of another color (drawn when the truck is),
        with wheels."""
        cam, c = self.cam, self.canvas
        self._box(x0, x1, 0.4, 2.8, z + L - 2.2, z + L, TRUCK, col)
        self._box(x0, x1, 0.5, h, z, z + L - 2.4, TRUCK,
                  class_color(self.rng, TRUCK))
        for xx in (x0 + 0.1, x1 - 0.45):
            p = cam.project([xx, xx + 0.35, xx + 0.35, xx], [0, 0, 0.55, 0.55],
                            z + 0.5)
            c.poly(p, TRUCK, _DARK, z)

    def _draw_long_vehicle(self, cls: int, x0: float, x1: float, z: float,
                           h: float, L: float, col: np.ndarray,
                           glass: np.ndarray) -> None:
        """Bus and train: a long box with a band of windows (and wheels on a
        bus)."""
        cam, c = self.cam, self.canvas
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
                p = cam.project([xs] * 4,
                                [h * 0.55, h * 0.55, h * 0.9, h * 0.9],
                                [zz, zz + 1.3, zz + 1.3, zz])
                c.poly(p, cls, glass, zz)
        if cls == BUS:
            for xx in (x0 + 0.1, x1 - 0.45):
                p = cam.project([xx, xx + 0.35, xx + 0.35, xx],
                                [0, 0, 0.5, 0.5], z + 0.5)
                c.poly(p, BUS, _DARK, z)

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
        rider_col = class_color(rng, RIDER)
        skin = np.array(SKIN[rng.integers(len(SKIN))], np.float32)
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
                c.poly([(wx[0], cy), (wx[1], cy),
                        (wx[1] - 0.1 * s, cy - 0.5 * s),
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
                       shade(rider_col, 0.6), z)
                c.poly([
                    (hip[0] - 0.18 * s, hip[1]), (hip[0] + 0.18 * s, hip[1]),
                    (hip[0] + 0.2 * facing * s + 0.15 * s, hip[1] - 0.65 * s),
                    (hip[0] + 0.2 * facing * s - 0.15 * s, hip[1] - 0.65 * s)
                ], RIDER, rider_col, z)
                c.ellipse((hip[0] + 0.25 * facing * s, hip[1] - 0.8 * s),
                          (0.12 * s, 0.14 * s), RIDER, skin, z)

        return draw
