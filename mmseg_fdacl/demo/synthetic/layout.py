"""Scene layout: sky, ground plane (road, sidewalks, terrain), the skyline and
the facades, walls and fences lining both sides of the street."""
from typing import Sequence

import numpy as np

from .appearance import class_color, shade
from .classes import (BUILDING, FENCE, ROAD, SIDEWALK, SKY, TERRAIN,
                      VEGETATION, WALL)
from .geometry import SceneState


class LayoutMixin(SceneState):
    """The static street: drawn directly, before the objects."""

    def _sky(self) -> None:
        c = self.canvas
        top = class_color(self.rng, SKY)
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
        colors = {k: class_color(rng, k) for k in (ROAD, SIDEWALK, TERRAIN)}
        img = np.zeros(gx.shape + (3, ), np.float32)
        for k, col in colors.items():
            img[lab == k] = col
        # Lane markings, curb stones and crossings: road texture with shape.
        lane = (np.abs(np.abs(gx) - self.road_w / 4) < 0.08) & (np.mod(
            gz, 9.0) < 3.0) & (
                lab == ROAD)
        center = (np.abs(gx) < 0.08) & (lab == ROAD)
        img[lane | center] = (230, 230, 220)
        curb = (np.abs(np.abs(gx) - self.road_w / 2) < 0.15) & (
            lab == SIDEWALK)
        img[curb] = shade(colors[SIDEWALK], 1.2)
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
            self.canvas.poly(p, cls, class_color(rng, cls), zf)
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
        color = class_color(rng, kind)
        if kind == BUILDING:
            ht = rng.uniform(7, 26)
        elif kind == VEGETATION:
            ht = rng.uniform(3, 12)
        elif kind == WALL:
            ht = rng.uniform(1.0, 3.0)
        else:
            ht = rng.uniform(1.2, 2.4)
        side_shade = 0.85 if side > 0 else 1.0
        zn = max(z0, 0.5)
        if kind == VEGETATION:
            n = max(int((z1 - zn) / 1.5), 2)
            zs = np.linspace(zn, z1, n)
            tops = ht + rng.normal(0, ht * 0.15, n)
            p = np.concatenate([
                cam.project([x, x], [0, 0], [zn, z1]),
                cam.project(np.full(n, x), tops, zs)[::-1]
            ])
            c.poly(p, kind, shade(color, side_shade), zn)
            return
        p = cam.project([x] * 4, [0, 0, ht, ht], [zn, z1, z1, zn])
        c.poly(p, kind, shade(color, side_shade), zn)
        if kind == BUILDING:
            win = np.clip(color * 0.45 + np.array([10, 20, 40]), 0, 255)
            for y in np.arange(2.5, ht - 1.5, 3.2):
                for zz in np.arange(
                        np.ceil(zn / 3.5) * 3.5 + 0.8, z1 - 1.5, 3.5):
                    if cam.scale(zz) * 1.2 < 1.0:
                        continue
                    q = cam.project([x] * 4, [y, y, y + 1.5, y + 1.5],
                                    [zz, zz + 1.6, zz + 1.6, zz])
                    c.poly(q, BUILDING, win, zz)
        elif kind == FENCE:
            bar = shade(color, 0.6)
            for zz in np.arange(np.ceil(zn), z1, 1.0):
                q = cam.project([x, x], [0, ht], [zz, zz])
                c.line(q[0], q[1], max(cam.scale(zz) * 0.06, 1), FENCE, bar,
                       zz)
