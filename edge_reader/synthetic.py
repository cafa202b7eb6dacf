"""Draw analog gauges with a known value, for tests and the accuracy bench.

A drawn gauge comes with the calibration a user would have made for that camera
position, so the in-plane rotation of the camera is absorbed by the calibration
(as it is in the field), while perspective tilt, light, glare, blur and noise are not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

BGR = tuple[int, int, int]

# (min_angle, sweep) pairs seen on real dials: 270° industrial, 240°, 180° arc,
# 300° wide, and the full-circle dial of meters and clocks.
SCALES: tuple[tuple[float, float], ...] = (
    (225, 270),
    (240, 240),
    (270, 180),
    (210, 300),
    (0, 360),
)
# (min_value, max_value, unit, major divisions that give round numbers)
RANGES: tuple[tuple[float, float, str, tuple[int, ...]], ...] = (
    (0, 10, "bar", (5, 10)),
    (0, 16, "bar", (4, 8)),
    (0, 100, "PSI", (5, 10)),
    (-1, 1.5, "bar", (5,)),
    (0, 6, "MPa", (6,)),
    (0, 120, "°C", (6, 12)),
    (0, 4000, "rpm", (4, 8)),
)
SIZES: tuple[tuple[int, int], ...] = ((320, 240), (640, 480), (1280, 720), (1920, 1080))


@dataclass(frozen=True)
class GaugeStyle:
    """How a gauge looks and how its scale runs."""

    min_angle: float = 225.0
    sweep: float = 270.0
    direction: str = "cw"  # the way the needle travels from min_value to max_value
    min_value: float = 0.0
    max_value: float = 10.0
    unit: str = "bar"
    major_divisions: int = 10
    minor_per_major: int = 5
    face: BGR = (245, 245, 245)
    ink: BGR = (20, 20, 20)  # ticks and numbers
    needle: BGR = (15, 15, 15)
    # "bar", "drop" (fat, round body), "arrow", "counterweight" (a slim point balanced by a
    # half disc of radius tail_length behind the hub), a meter's rotors ("ring": a disc with a
    # C-shaped window and a nose; "star": three light arms, one of them the pointer's colour;
    # "plate": a wide point carrying a light plate), or "none" for no needle
    needle_shape: str = "tapered"
    needle_width: float = 0.06  # base width as a fraction of the dial radius
    needle_length: float = 0.82
    tail_length: float = 0.2
    hub_radius: float = 0.08
    hub: BGR = (40, 40, 40)
    bezel: BGR = (90, 90, 90)
    bezel_width: float = 0.08
    numbers: bool = True
    number_size: float = 1.0  # a meter's sub-dial prints its digits larger and bolder than a gauge
    red_zone: bool = False
    background: BGR = (150, 160, 170)

    @property
    def max_angle(self) -> float:
        return self.min_angle + self.sweep if self.direction == "cw" else self.min_angle - self.sweep

    def angle_of(self, value: float) -> float:
        """The needle angle, degrees clockwise from 12 o'clock, for a value."""
        fraction = (value - self.min_value) / (self.max_value - self.min_value)
        sign = 1.0 if self.direction == "cw" else -1.0
        return self.min_angle + sign * fraction * self.sweep


@dataclass(frozen=True)
class Scene:
    """Where the gauge sits in the frame and what the camera and the light do to it."""

    size: tuple[int, int] = (640, 480)  # width, height
    center: tuple[float, float] | None = None  # None: middle of the frame
    radius: float | None = None  # None: 40% of the shorter side
    rotation: float = 0.0  # camera roll, degrees clockwise
    tilt: tuple[float, float] = (0.0, 0.0)  # degrees about the x and y axes
    gradient: float = 0.0  # 0..1: how much darker one side is
    gradient_angle: float = 0.0
    glare: float = 0.0  # 0..1: strength of a bright spot on the glass
    glare_at: tuple[float, float] = (0.3, -0.3)  # relative to the centre, in radii
    blur: float = 0.0  # gaussian sigma in pixels
    noise: float = 0.0  # gaussian noise sd, grey levels
    jpeg_quality: int | None = None
    exposure: float = 1.0  # brightness factor: under 1 a dim room, over 1 an overexposed frame
    shadow: float = 0.0  # the needle's shadow on the face, offset in dial radii
    clutter: int = 0  # pipes, bolts and plates around the gauge
    clutter_seed: int = 0


def _point(center: tuple[float, float], radius: float, angle_deg: float) -> tuple[float, float]:
    theta = math.radians(angle_deg)
    return center[0] + radius * math.sin(theta), center[1] - radius * math.cos(theta)


def _fixed(x: float, y: float) -> tuple[int, int]:
    """cv2 sub-pixel coordinates: 4 fractional bits."""
    return int(round(x * 16)), int(round(y * 16))


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) < 1000 else f"{value / 1000:g}k"


def _draw_scale(img: np.ndarray, c: tuple[float, float], r: float, style: GaugeStyle, roll: float) -> None:
    ticks = style.major_divisions * style.minor_per_major
    full_circle = abs(style.sweep - 360) < 1e-9
    for i in range(ticks + (0 if full_circle else 1)):
        fraction = i / ticks
        value = style.min_value + fraction * (style.max_value - style.min_value)
        angle = style.angle_of(value) + roll
        major = i % style.minor_per_major == 0
        inner = r * (0.82 if major else 0.89)
        thickness = max(1, int(round(r * (0.025 if major else 0.012))))
        p0, p1 = _point(c, inner, angle), _point(c, r * 0.97, angle)
        cv2.line(img, _fixed(*p0), _fixed(*p1), style.ink, thickness, cv2.LINE_AA, shift=4)
        if major and style.numbers:
            text = _label(value)
            scale = r / 160.0 * min(1.0, 2.5 / max(2, len(text))) * min(1.0, 8 / style.major_divisions)
            scale *= style.number_size
            width = max(1, int(round(r / 70 * style.number_size)))
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, width)
            x, y = _point(c, r * (0.68 if style.number_size <= 1 else 0.62), angle)
            cv2.putText(
                img,
                text,
                (int(x - tw / 2), int(y + th / 2)),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                style.ink,
                width,
                cv2.LINE_AA,
            )


def _draw_red_zone(img: np.ndarray, c: tuple[float, float], r: float, style: GaugeStyle, roll: float) -> None:
    start = style.angle_of(style.min_value + 0.8 * (style.max_value - style.min_value)) + roll
    end = style.angle_of(style.max_value) + roll
    lo, hi = sorted((start, end))
    # cv2 ellipse angles run clockwise from 3 o'clock.
    cv2.ellipse(
        img,
        _fixed(*c),
        _fixed(r * 0.93, r * 0.93),
        0,
        lo - 90,
        hi - 90,
        (40, 40, 210),
        max(2, int(r * 0.05)),
        cv2.LINE_AA,
        shift=4,
    )


def _draw_needle(img: np.ndarray, c: tuple[float, float], r: float, style: GaugeStyle, angle: float) -> None:
    tip = _point(c, r * style.needle_length, angle)
    tail = _point(c, -r * style.tail_length, angle)
    half = r * style.needle_width / 2
    if style.needle_shape == "none":
        pass
    elif style.needle_shape == "drop":
        # A water meter's fat pointer: a round body on the hub narrowing to a point.
        body = r * style.needle_width
        cv2.circle(img, _fixed(*c), int(round(body * 16)), style.needle, -1, cv2.LINE_AA, shift=4)
        sides = [_point(c, body, angle - 90), _point(c, body, angle + 90)]
        polygon = np.array([_fixed(*p) for p in (tip, sides[1], sides[0])], np.int32)
        cv2.fillPoly(img, [polygon], style.needle, cv2.LINE_AA, shift=4)
    elif style.needle_shape == "arrow":
        # A thin shaft with a wide head near its tip, and a short tail behind the hub.
        head = _point(c, r * (style.needle_length - 0.22), angle)
        cv2.line(img, _fixed(*tail), _fixed(*head), style.needle, max(1, int(round(half))), cv2.LINE_AA, shift=4)
        wings = [_point(head, 2.5 * half, angle - 90), _point(head, 2.5 * half, angle + 90)]
        polygon = np.array([_fixed(*p) for p in (tip, wings[1], wings[0])], np.int32)
        cv2.fillPoly(img, [polygon], style.needle, cv2.LINE_AA, shift=4)
    elif style.needle_shape == "counterweight":
        # A meter's rotor: a slim point balanced by a half disc on the far side of the hub,
        # wider and heavier than the point but shorter.
        weight = r * style.tail_length
        cv2.ellipse(img, _fixed(*c), (int(round(weight * 16)),) * 2, angle, 0, 180, style.needle, -1, cv2.LINE_AA, 4)
        sides = [_point(c, half, angle - 90), _point(c, half, angle + 90)]
        polygon = np.array([_fixed(*p) for p in (tip, sides[1], sides[0])], np.int32)
        cv2.fillPoly(img, [polygon], style.needle, cv2.LINE_AA, shift=4)
    elif style.needle_shape in ROTOR_SHAPES:
        _draw_rotor(img, c, r, style, angle)
    elif style.needle_shape == "tapered":
        side_l = _point(c, half, angle - 90)
        side_r = _point(c, half, angle + 90)
        tail_l = (tail[0] + side_l[0] - c[0], tail[1] + side_l[1] - c[1])
        tail_r = (tail[0] + side_r[0] - c[0], tail[1] + side_r[1] - c[1])
        polygon = np.array([_fixed(*p) for p in (tip, side_r, tail_r, tail_l, side_l)], np.int32)
        cv2.fillPoly(img, [polygon], style.needle, cv2.LINE_AA, shift=4)
    else:
        cv2.line(img, _fixed(*tail), _fixed(*tip), style.needle, max(1, int(round(2 * half))), cv2.LINE_AA, shift=4)
    cv2.circle(img, _fixed(*c), int(round(r * style.hub_radius * 16)), style.hub, -1, cv2.LINE_AA, shift=4)


ROTOR_LIGHT: BGR = (235, 238, 240)  # the light parts of a meter's rotor: a window, arms, a plate


def _draw_rotor(img: np.ndarray, c: tuple[float, float], r: float, style: GaugeStyle, angle: float) -> None:
    """A meter's rotor: most of its area is not the pointer, and only one part of it points.

    "ring": a disc of radius needle_width with a C-shaped light window round the hub that
    leaves a solid bar towards the nose; "star": three light arms with coloured edges, the
    pointing one filled with the pointer's colour; "plate": a wide point whose body carries
    a light rectangle across it.
    """
    colour, size = style.needle, r * style.needle_width
    tip = _point(c, r * style.needle_length, angle)
    if style.needle_shape == "ring":
        cv2.circle(img, _fixed(*c), int(round(size * 16)), colour, -1, cv2.LINE_AA, shift=4)
        window = ((size * 0.78 + size * 0.3) / 2, (size * 0.78 - size * 0.3) / 2)  # the window's mid radius, half width
        cv2.ellipse(
            img, _fixed(*c), (int(round(window[0] * 16)),) * 2, angle - 90, 35, 325,
            ROTOR_LIGHT, max(1, int(round(2 * window[1]))), cv2.LINE_AA, 4,
        )  # fmt: skip
        sides = [_point(c, 0.35 * size, angle - 90), _point(c, 0.35 * size, angle + 90)]
        polygon = np.array([_fixed(*p) for p in (tip, sides[1], sides[0])], np.int32)
        cv2.fillPoly(img, [polygon], colour, cv2.LINE_AA, shift=4)
    elif style.needle_shape == "star":
        edge = max(1, int(round(0.02 * r)))
        for arm in (120.0, 240.0, 0.0):  # the pointing arm last, on top
            end = _point(c, r * style.needle_length, angle + arm)
            sides = [_point(c, size / 2, angle + arm - 90), _point(c, size / 2, angle + arm + 90)]
            polygon = np.array([_fixed(*p) for p in (end, sides[1], sides[0])], np.int32)
            cv2.fillPoly(img, [polygon], colour if arm == 0 else ROTOR_LIGHT, cv2.LINE_AA, shift=4)
            cv2.polylines(img, [polygon], True, colour, edge, cv2.LINE_AA, shift=4)
    else:  # plate
        body = _point(c, -0.15 * r, angle)
        sides = [_point(body, size / 2, angle - 90), _point(body, size / 2, angle + 90)]
        polygon = np.array([_fixed(*p) for p in (tip, sides[1], sides[0])], np.int32)
        cv2.fillPoly(img, [polygon], colour, cv2.LINE_AA, shift=4)
        plate = cv2.boxPoints((_point(c, 0.1 * r, angle), (0.7 * size, 0.35 * r), angle))
        cv2.fillPoly(img, [np.array([_fixed(*p) for p in plate], np.int32)], ROTOR_LIGHT, cv2.LINE_AA, shift=4)


def draw_gauge(value: float, style: GaugeStyle = GaugeStyle(), scene: Scene = Scene()) -> np.ndarray:
    """A BGR image of the gauge showing `value`."""
    width, height = scene.size
    c = scene.center or (width / 2, height / 2)
    r = scene.radius or 0.4 * min(width, height)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = style.background
    _draw_clutter(img, scene)
    cv2.circle(img, _fixed(*c), int(round(r * (1 + style.bezel_width) * 16)), style.bezel, -1, cv2.LINE_AA, shift=4)
    cv2.circle(img, _fixed(*c), int(round(r * 16)), style.face, -1, cv2.LINE_AA, shift=4)
    if style.red_zone:
        _draw_red_zone(img, c, r, style, scene.rotation)
    _draw_scale(img, c, r, style, scene.rotation)
    if style.unit:
        text = style.unit.replace("°", "")
        scale = r / 180.0
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        x, y = _point(c, r * 0.42, 180 + scene.rotation)
        cv2.putText(
            img,
            text,
            (int(x - tw / 2), int(y + th / 2)),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            style.ink,
            max(1, int(r / 90)),
            cv2.LINE_AA,
        )
    angle = style.angle_of(value) + scene.rotation
    if scene.shadow > 0:
        _draw_shadow(img, c, r, style, angle, scene.shadow)
    _draw_needle(img, c, r, style, angle)
    return _apply_camera(img, c, r, scene)


def _draw_shadow(
    img: np.ndarray, c: tuple[float, float], r: float, style: GaugeStyle, angle: float, offset: float
) -> None:
    """A soft shadow of the needle, cast down and to the right by a light above the camera."""
    mask = np.zeros(img.shape[:2], np.uint8)
    shadow_style = replace(style, needle=(255, 255, 255), hub=(255, 255, 255))
    _draw_needle(mask, (c[0] + offset * r, c[1] + offset * r), r, shadow_style, angle)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(1.0, 0.02 * r))
    img[:] = (img * (1 - 0.45 * soft[..., None])).astype(np.uint8)


def _draw_clutter(img: np.ndarray, scene: Scene) -> None:
    """Pipes, bolts and plates: edges and circles that are not the dial."""
    rng = np.random.default_rng(scene.clutter_seed)
    height, width = img.shape[:2]
    short = min(width, height)
    for _ in range(scene.clutter):
        colour = tuple(int(v) for v in rng.integers(20, 235, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = rng.integers(3)
        if kind == 0:  # a pipe
            x2, y2 = int(rng.integers(0, width)), int(rng.integers(0, height))
            cv2.line(img, (x, y), (x2, y2), colour, int(rng.integers(short // 40 + 1, short // 8 + 2)), cv2.LINE_AA)
        elif kind == 1:  # a bolt head
            cv2.circle(img, (x, y), int(rng.integers(short // 50 + 1, short // 8 + 2)), colour, -1, cv2.LINE_AA)
        else:  # a plate
            w, h = (int(v) for v in rng.integers(short // 10, short // 3, 2))
            cv2.rectangle(img, (x, y), (x + w, y + h), colour, -1)


def _apply_camera(img: np.ndarray, c: tuple[float, float], r: float, scene: Scene) -> np.ndarray:
    height, width = img.shape[:2]
    if scene.tilt != (0.0, 0.0):
        img = _tilt(img, c, r, scene.tilt)
    out = img.astype(np.float32) * scene.exposure
    if scene.gradient > 0:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        theta = math.radians(scene.gradient_angle)
        along = ((xx - c[0]) * math.cos(theta) + (yy - c[1]) * math.sin(theta)) / (2.5 * r)
        out *= (1.0 - scene.gradient * np.clip(along + 0.5, 0, 1))[..., None]
    if scene.glare > 0:
        gx, gy = c[0] + scene.glare_at[0] * r, c[1] + scene.glare_at[1] * r
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        spot = np.exp(-(((xx - gx) ** 2) / (0.08 * r * r) + ((yy - gy) ** 2) / (0.03 * r * r)))
        out += (255 * scene.glare * spot)[..., None]
    if scene.blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), scene.blur)
    if scene.noise > 0:
        rng = np.random.default_rng(int(c[0] * 1000 + c[1]))
        out += rng.normal(0, scene.noise, out.shape).astype(np.float32)
    img = np.clip(out, 0, 255).astype(np.uint8)
    if scene.jpeg_quality:
        ok, encoded = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, scene.jpeg_quality])
        img = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return img


def _tilt(img: np.ndarray, c: tuple[float, float], r: float, tilt: tuple[float, float]) -> np.ndarray:
    """Turn the gauge plane a few degrees out of the image plane, about the dial centre."""
    height, width = img.shape[:2]
    focal = 1.2 * max(width, height)  # a normal lens: about 50° across the frame
    ax, ay = (math.radians(t) for t in tilt)
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    square = np.array([[-r, -r, 0], [r, -r, 0], [r, r, 0], [-r, r, 0]], dtype=float)
    turned = square @ (rx @ ry).T
    depth = focal + turned[:, 2]  # the dial centre stays at the focal distance
    projected = np.column_stack([c[0] + focal * turned[:, 0] / depth, c[1] + focal * turned[:, 1] / depth])
    flat = (square[:, :2] + np.array(c)).astype(np.float32)
    homography = cv2.getPerspectiveTransform(flat, projected.astype(np.float32))
    return cv2.warpPerspective(img, homography, (width, height), borderMode=cv2.BORDER_REPLICATE)


def calibration_for(style: GaugeStyle, scene: Scene, *, known_geometry: bool = False) -> dict[str, Any]:
    """The calibration a user would save for this gauge seen from this camera."""
    width, height = scene.size
    center = scene.center or (width / 2, height / 2)
    radius = scene.radius or 0.4 * min(width, height)
    return {
        "kind": "dial",
        "min_angle": style.min_angle + scene.rotation,
        "max_angle": style.max_angle + scene.rotation,
        "min_value": style.min_value,
        "max_value": style.max_value,
        "unit": style.unit,
        "center": [center[0], center[1]] if known_geometry else None,
        "radius": radius if known_geometry else None,
        "direction": style.direction,
    }


def random_style(rng: np.random.Generator) -> GaugeStyle:
    min_angle, sweep = SCALES[rng.integers(len(SCALES))]
    lo, hi, unit, divisions = RANGES[rng.integers(len(RANGES))]
    direction = "ccw" if rng.random() < 0.25 else "cw"
    if direction == "ccw":
        min_angle = (min_angle + sweep) % 360  # mirror: the same arc, rising the other way
    dark_face = rng.random() < 0.2
    if dark_face:
        face, ink = (25, 25, 25), (235, 235, 235)
        needle = [(240, 240, 240), (30, 120, 250), (40, 40, 230)][rng.integers(3)]
    else:
        face = [(245, 245, 245), (215, 235, 245), (225, 225, 225)][rng.integers(3)]
        ink = (20, 20, 20)
        needle = [(15, 15, 15), (30, 30, 200), (60, 40, 20)][rng.integers(3)]
    return GaugeStyle(
        min_angle=float(min_angle),
        sweep=float(sweep),
        direction=direction,
        min_value=lo,
        max_value=hi,
        unit=unit,
        major_divisions=int(rng.choice(divisions)),
        minor_per_major=int(rng.choice([2, 4, 5])),
        face=face,
        ink=ink,
        needle=needle,
        needle_shape="tapered" if rng.random() < 0.7 else "bar",
        needle_width=float(rng.uniform(0.035, 0.08)),
        needle_length=float(rng.uniform(0.72, 0.9)),
        tail_length=float(rng.uniform(0.1, 0.25)),
        hub_radius=float(rng.uniform(0.05, 0.1)),
        hub=needle if rng.random() < 0.5 else (60, 60, 60),
        bezel=[(90, 90, 90), (30, 30, 30), (190, 190, 190)][rng.integers(3)],
        bezel_width=float(rng.uniform(0.04, 0.12)),
        numbers=rng.random() < 0.85,
        red_zone=rng.random() < 0.3,
        background=tuple(int(v) for v in rng.integers(60, 200, 3)),
    )


def random_scene(rng: np.random.Generator, size: tuple[int, int] | None = None) -> Scene:
    width, height = size or SIZES[rng.integers(len(SIZES))]
    short = min(width, height)
    radius = float(rng.uniform(0.22, 0.42) * short)
    margin = 1.13 * radius
    center = (float(rng.uniform(margin, width - margin)), float(rng.uniform(margin, height - margin)))
    return Scene(
        size=(width, height),
        center=center,
        radius=radius,
        rotation=float(rng.uniform(-5, 5)),
        tilt=(float(rng.uniform(-6, 6)), float(rng.uniform(-6, 6))),
        gradient=float(rng.uniform(0, 0.6)),
        gradient_angle=float(rng.uniform(0, 360)),
        glare=float(rng.uniform(0.3, 0.7)) if rng.random() < 0.3 else 0.0,
        glare_at=(float(rng.uniform(-0.6, 0.6)), float(rng.uniform(-0.6, 0.6))),
        blur=float(rng.uniform(0, 1.5) * short / 480),
        noise=float(rng.uniform(0, 8)),
        jpeg_quality=int(rng.integers(60, 95)) if rng.random() < 0.5 else None,
        exposure=float(rng.uniform(0.45, 1.15)),
        shadow=float(rng.uniform(0.01, 0.04)) if rng.random() < 0.4 else 0.0,
        clutter=int(rng.integers(0, 8)),
        clutter_seed=int(rng.integers(1 << 30)),
    )


def random_gauge(
    rng: np.random.Generator, size: tuple[int, int] | None = None, *, known_geometry: bool = False
) -> tuple[np.ndarray, dict[str, Any], float, GaugeStyle]:
    """A random gauge image, its calibration, the value it shows and its style.

    With `known_geometry` the calibration holds the dial's centre and radius, as a fixed
    camera's does.
    """
    style = random_style(rng)
    scene = random_scene(rng, size)
    span = style.max_value - style.min_value
    # A full-circle dial shows min and max at the same place; stay off the seam.
    margin = 0.01 if style.sweep == 360 else 0.0
    value = style.min_value + span * float(rng.uniform(margin, 1 - margin))
    calibration = calibration_for(style, scene, known_geometry=known_geometry)
    return draw_gauge(value, style, scene), calibration, value, style


# A water meter's sub-dials as its camera sees them: faces, inks and pointers.
METER_FACES: tuple[BGR, ...] = ((235, 238, 240), (200, 225, 235), (215, 215, 215), (225, 220, 235), (170, 190, 200))
METER_INKS: tuple[BGR, ...] = ((25, 25, 25), (40, 40, 150), (70, 60, 60))
METER_POINTERS: tuple[BGR, ...] = ((40, 40, 210), (30, 60, 230), (60, 50, 170), (25, 25, 25), (30, 30, 90))
METER_SHAPES: tuple[str, ...] = ("drop", "drop", "tapered", "arrow", "bar")
ROTOR_SHAPES: tuple[str, ...] = ("ring", "star", "plate")
POINTER_WIDTHS: dict[str, tuple[float, float]] = {
    "drop": (0.14, 0.26),
    "tapered": (0.08, 0.2),
    "arrow": (0.04, 0.08),
    "bar": (0.03, 0.07),
    "ring": (0.4, 0.6),  # the rotor's radius
    "star": (0.2, 0.35),  # each arm's base
    "plate": (0.35, 0.5),  # the point's base
}


def random_meter_dial(
    rng: np.random.Generator,
    side: int | None = None,
    shapes: tuple[str, ...] = METER_SHAPES,
) -> tuple[np.ndarray, float]:
    """A photo cut down to a meter's sub-dial (full circle, 0 to 10 clockwise from 12) and its value.

    Fat red drops, tapered and arrow pointers, thin dark lines, with a tail or none (and,
    given ROTOR_SHAPES, rotors); large digits and ticks under the pointer; the dial's centre
    a little off the crop's middle and its rim often cut; glare, blur, uneven light, noise
    and JPEG.
    """
    side = side or int(rng.integers(96, 200))
    radius = side / 2 * float(rng.uniform(0.85, 1.15))
    offset = rng.normal(0, 0.04 * side, 2)
    shape = str(rng.choice(list(shapes)))
    width = POINTER_WIDTHS[shape]
    pointer = METER_POINTERS[rng.integers(len(METER_POINTERS))]
    style = GaugeStyle(
        min_angle=0.0,
        sweep=360.0,
        min_value=0.0,
        max_value=10.0,
        unit="",
        major_divisions=10,
        minor_per_major=int(rng.choice([1, 2, 5])),
        face=METER_FACES[rng.integers(len(METER_FACES))],
        ink=METER_INKS[rng.integers(len(METER_INKS))],
        needle=pointer,
        needle_shape=shape,
        needle_width=float(rng.uniform(*width)),
        needle_length=float(rng.uniform(0.55, 0.85)),
        tail_length=float(rng.uniform(0.1, 0.35)) if shape != "drop" and rng.random() < 0.5 else 0.0,
        hub_radius=float(rng.uniform(0.05, 0.14)),
        hub=pointer if rng.random() < 0.7 else (60, 60, 60),
        bezel=tuple(int(v) for v in rng.integers(40, 220, 3)),
        bezel_width=float(rng.uniform(0.03, 0.12)),
        numbers=rng.random() < 0.9,
        number_size=float(rng.uniform(1.4, 2.4)),
        background=tuple(int(v) for v in rng.integers(60, 230, 3)),
    )
    scene = Scene(
        size=(side, side),
        center=(side / 2 + float(offset[0]), side / 2 + float(offset[1])),
        radius=radius,
        tilt=(float(rng.uniform(-8, 8)), float(rng.uniform(-8, 8))),
        gradient=float(rng.uniform(0, 0.6)),
        gradient_angle=float(rng.uniform(0, 360)),
        glare=float(rng.uniform(0.2, 0.8)) if rng.random() < 0.4 else 0.0,
        glare_at=(float(rng.uniform(-0.6, 0.6)), float(rng.uniform(-0.6, 0.6))),
        blur=float(rng.uniform(0.3, 2.0) * side / 150),
        noise=float(rng.uniform(0, 8)),
        jpeg_quality=int(rng.integers(40, 90)) if rng.random() < 0.7 else None,
        exposure=float(rng.uniform(0.6, 1.1)),
        shadow=float(rng.uniform(0.01, 0.05)) if rng.random() < 0.4 else 0.0,
    )
    value = float(rng.uniform(0, 10))
    return draw_gauge(value, style, scene), value
