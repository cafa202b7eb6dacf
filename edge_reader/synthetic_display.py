"""Draw seven-segment displays showing a known value, for tests and the accuracy bench.

A display is drawn flat (housing, panel, segments), then placed in a camera frame:
turned and tilted a little, lit unevenly, with glare on the glass, blur, sensor noise
and JPEG compression, over a cluttered background.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

BGR = tuple[int, int, int]

SEGMENT_NAMES = "abcdefg"
# a top, b top right, c bottom right, d bottom, e bottom left, f top left, g middle.
SEGMENTS_OF: dict[str, str] = {
    "0": "abcdef",
    "1": "bc",
    "2": "abdeg",
    "3": "abcdg",
    "4": "bcfg",
    "5": "acdfg",
    "6": "acdefg",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    "-": "g",
    " ": "",
    # Letters a meter shows for errors and units: no digit, so a reader must refuse them.
    "E": "adefg",
    "H": "bcefg",
    "L": "def",
    "P": "abefg",
    "o": "cdeg",
    "°": "abfg",
}
# Some makers draw 6 without its top bar, 7 with a left bar, 9 without its bottom bar.
VARIANT_SEGMENTS_OF: dict[str, str] = {"6": "cdefg", "7": "abcf", "9": "abcfg"}
SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (1920, 1080), (2048, 1536))
SHAPES = ("bevel", "rect", "round")
LCD_PANELS: tuple[BGR, ...] = ((150, 185, 165), (170, 190, 180), (190, 195, 195), (140, 175, 160), (200, 205, 205))
LED_COLOURS: tuple[BGR, ...] = ((40, 40, 255), (60, 230, 80), (255, 150, 40), (40, 170, 255), (230, 230, 230))


@dataclass(frozen=True)
class DisplayStyle:
    """How a display looks. Lengths are fractions of the digit height."""

    positions: int = 4  # digit cells on the panel
    digit_height: float = 80.0  # pixels, when drawn flat
    width: float = 0.55  # digit width
    stroke: float = 0.14  # segment thickness
    gap: float = 0.02  # space between neighbouring segments
    spacing: float = 0.25  # space between digit cells
    slant: float = 0.0  # horizontal shift of a digit's top over its height (italic digits)
    shape: str = "bevel"  # "bevel", "rect" or "round" segment ends
    variants: bool = False  # 6, 7 and 9 drawn in their alternative forms
    lcd: bool = True  # dark segments on a light panel; False: lit segments on a dark panel
    panel: BGR = (150, 185, 165)
    segment: BGR = (40, 45, 40)
    ghost: float = 0.0  # how much unlit segments show, 0..1 of a lit one
    glow: float = 0.0  # LED light bleeding around a lit segment, in digit heights
    housing: BGR = (60, 60, 60)
    housing_margin: float = 0.4  # housing around the panel
    frame: float = 0.0  # a dark edge around the panel (the glass's border), in digit heights
    # Dark marks on the glass (dirt, a scratch, the edge of a reflection): (x, y, width,
    # height) as fractions of the panel, drawn nearly as dark as a lit segment.
    smudges: tuple[tuple[float, float, float, float], ...] = ()
    # A dark strip along the panel's bottom edge (the bevel's shadow on the glass), in digit
    # heights, drawn as dark as a lit segment.
    bottom_shadow: float = 0.0
    # Lit segments paler towards the digits' bottom (glare on the lower half, the bevel's
    # shade): 0.4 leaves the bottom bars at 0.6 of the top bars' darkness.
    fade_down: float = 0.0
    # The lit decimal point in a colour of its own (a pump's red point on its grey LCD);
    # None: the segments' colour.
    point_colour: BGR | None = None


@dataclass(frozen=True)
class Camera:
    """How the display sits in the frame and what the camera adds."""

    size: tuple[int, int] = (1280, 720)
    panel_width: float = 0.5  # panel width as a fraction of the frame width
    center: tuple[float, float] = (0.5, 0.5)  # panel centre, fractions of the frame
    rotation: float = 0.0  # degrees
    tilt: tuple[float, float] = (0.0, 0.0)  # perspective: corner shifts, fractions of the panel
    light_gradient: float = 0.0  # 0: even light; 0.5: one side at half light
    light_angle: float = 0.0
    glare: tuple[tuple[float, float, float, float], ...] = ()  # (x, y, radius, strength) on the panel
    blur: float = 0.0  # Gaussian sigma, in digit heights
    noise: float = 0.0  # grey levels
    jpeg_quality: int | None = None
    background_seed: int = 0


@dataclass
class DrawnDisplay:
    image: np.ndarray
    text: str  # as displayed, e.g. "-12.5"; may hold letters (see SEGMENTS_OF)
    value: float
    calibration: dict[str, Any]
    panel_quad: np.ndarray  # the panel's corners in the frame, clockwise from top left
    style: DisplayStyle = field(default_factory=DisplayStyle)
    camera: Camera = field(default_factory=Camera)

    @property
    def panel_roi(self) -> list[int]:
        x0, y0 = np.floor(self.panel_quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.panel_quad.max(axis=0)).astype(int)
        return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def cells_of(text: str, positions: int) -> list[tuple[str, bool]]:
    """(character, decimal point after it) per digit cell, right-aligned; blanks lead."""
    cells: list[tuple[str, bool]] = []
    for char in text:
        if char == ".":
            if not cells:
                cells.append(("0", False))  # ".5" is drawn as "0.5"
            cells[-1] = (cells[-1][0], True)
        else:
            cells.append((char, False))
    if len(cells) > positions:
        raise ValueError(f"{text!r} needs {len(cells)} digit cells, the display has {positions}")
    return [(" ", False)] * (positions - len(cells)) + cells


def face_size(style: DisplayStyle) -> tuple[int, int, float]:
    """Width and height of the flat face, and the width of the panel on it, in pixels."""
    h = style.digit_height
    pad_x = 0.45 * h + abs(style.slant) * h
    panel_w = style.positions * (style.width + style.spacing) * h - style.spacing * h + 2 * pad_x
    panel_h = h + 2 * 0.3 * h
    margin = style.housing_margin * h
    return int(round(panel_w + 2 * margin)), int(round(panel_h + 2 * margin)), panel_w


def draw_panel(text: str, style: DisplayStyle) -> tuple[np.ndarray, np.ndarray]:
    """The flat face (housing and panel) showing `text`, and the panel's corners on it."""
    h = style.digit_height
    pitch = (style.width + style.spacing) * h
    pad_x, pad_y = 0.45 * h + abs(style.slant) * h, 0.3 * h
    face_w, face_h, panel_w = face_size(style)
    panel_h = h + 2 * pad_y
    margin = style.housing_margin * h
    lit = np.zeros((face_h, face_w), np.float32)
    ghost = np.zeros_like(lit)
    coloured_point = np.zeros_like(lit)
    for index, (char, point) in enumerate(cells_of(text, style.positions)):
        origin = (margin + pad_x + index * pitch, margin + pad_y)
        on = VARIANT_SEGMENTS_OF.get(char, SEGMENTS_OF[char]) if style.variants else SEGMENTS_OF[char]
        for name in SEGMENT_NAMES:
            _draw_segment(lit if name in on else ghost, name, origin, style)
        _draw_point((coloured_point if style.point_colour else lit) if point else ghost, origin, style)
    face = np.empty((face_h, face_w, 3), np.float32)
    face[:] = style.housing
    x0, y0 = margin, margin
    cv2.rectangle(face, _fixed(x0, y0), _fixed(x0 + panel_w, y0 + panel_h), style.panel, -1, cv2.LINE_AA, 4)
    if style.fade_down > 0:
        rows = (np.arange(face_h, dtype=np.float32)[:, None] - margin - pad_y) / h
        lit = lit * (1 - style.fade_down * np.clip(rows, 0, 1))
    if style.glow > 0:
        glow = cv2.GaussianBlur(lit, (0, 0), style.glow * h)
        lit = np.maximum(lit, 0.5 * glow)
    dirt = np.zeros_like(lit)
    for x, y, w, tall in style.smudges:
        centre = (margin + (x + w / 2) * panel_w, margin + (y + tall / 2) * panel_h)
        axes = (w * panel_w / 2, tall * panel_h / 2)
        cv2.ellipse(dirt, _fixed(*centre), _fixed(*axes), 0, 0, 360, 1.0, -1, cv2.LINE_AA, 4)
    if style.bottom_shadow > 0:
        # Uneven along the edge, as a bevel's shadow is: dark in stretches about a digit long.
        shadow = np.zeros_like(dirt)
        shadow_top = margin + panel_h - style.bottom_shadow * h
        cv2.rectangle(shadow, _fixed(x0, shadow_top), _fixed(x0 + panel_w, margin + panel_h), 1.0, -1, cv2.LINE_AA, 4)
        along = np.arange(face_w, dtype=np.float32)[None, :]
        dirt += shadow * (0.6 + 0.65 * np.cos(2 * np.pi * along / (1.3 * h))) / 0.8
    coverage = np.clip(lit + style.ghost * ghost + 0.8 * dirt, 0, 1)[..., None]
    face = face * (1 - coverage) + np.array(style.segment, np.float32) * coverage
    if style.point_colour:
        cover = coloured_point[..., None]
        face = face * (1 - cover) + np.array(style.point_colour, np.float32) * cover
    if style.frame > 0:
        # The glass's dark edge inside the housing, as on a pump's or a meter's LCD.
        thickness = max(1, int(round(style.frame * h)))
        frame_colour = tuple(float(0.35 * channel) for channel in style.panel)
        cv2.rectangle(face, _fixed(x0, y0), _fixed(x0 + panel_w, y0 + panel_h), frame_colour, thickness, cv2.LINE_AA, 4)
    corners = np.array([[x0, y0], [x0 + panel_w, y0], [x0 + panel_w, y0 + panel_h], [x0, y0 + panel_h]], np.float32)
    return face, corners


def _fixed(x: float, y: float) -> tuple[int, int]:
    return int(round(x * 16)), int(round(y * 16))  # 4 bits of sub-pixel precision


def _segment_line(name: str, style: DisplayStyle) -> tuple[tuple[float, float], tuple[float, float]]:
    """The centre line of a segment, in digit heights, before slant."""
    t = style.stroke
    left, right, top, middle, bottom = t / 2, style.width - t / 2, t / 2, 0.5, 1 - t / 2
    return {
        "a": ((left, top), (right, top)),
        "g": ((left, middle), (right, middle)),
        "d": ((left, bottom), (right, bottom)),
        "f": ((left, top), (left, middle)),
        "b": ((right, top), (right, middle)),
        "e": ((left, middle), (left, bottom)),
        "c": ((right, middle), (right, bottom)),
    }[name]


def _draw_segment(mask: np.ndarray, name: str, origin: tuple[float, float], style: DisplayStyle) -> None:
    (x0, y0), (x1, y1) = _segment_line(name, style)
    t, gap = style.stroke, style.gap
    horizontal = y0 == y1
    along = np.array([1.0, 0.0]) if horizontal else np.array([0.0, 1.0])
    across = np.array([0.0, 1.0]) if horizontal else np.array([1.0, 0.0])
    start, end = np.array([x0, y0]), np.array([x1, y1])
    if style.shape == "bevel":
        points = [
            start + gap * along,
            start + (t / 2 + gap) * along - t / 2 * across,
            end - (t / 2 + gap) * along - t / 2 * across,
            end - gap * along,
            end - (t / 2 + gap) * along + t / 2 * across,
            start + (t / 2 + gap) * along + t / 2 * across,
        ]
    elif style.shape == "rect":
        a, b = start + (t / 2 + gap) * along, end - (t / 2 + gap) * along
        points = [a - t / 2 * across, b - t / 2 * across, b + t / 2 * across, a + t / 2 * across]
    else:  # round: a stadium whose caps end short of the neighbouring segment
        a, b = start + (t / 2 + gap) * along, end - (t / 2 + gap) * along
        angles = np.linspace(-np.pi / 2, np.pi / 2, 9)
        cap = [(np.cos(q), np.sin(q)) for q in angles]
        points = [b + t / 2 * (c * along + s * across) for c, s in cap]
        points += [a + t / 2 * (-c * along - s * across) for c, s in cap]
    _fill(mask, points, origin, style)


def _draw_point(mask: np.ndarray, origin: tuple[float, float], style: DisplayStyle) -> None:
    size = min(style.stroke * 1.1, style.spacing * 0.6)  # clear of both neighbours
    x = style.width + (style.spacing - size) / 2
    y = 1 - size
    points = [np.array(p) for p in ((x, y), (x + size, y), (x + size, 1.0), (x, 1.0))]
    _fill(mask, points, origin, style)


def _fill(mask: np.ndarray, points: list[np.ndarray], origin: tuple[float, float], style: DisplayStyle) -> None:
    h = style.digit_height
    pixels = [_fixed(origin[0] + h * (x + style.slant * (1 - y)), origin[1] + h * y) for x, y in points]
    cv2.fillPoly(mask, [np.array(pixels, np.int32)], 1.0, cv2.LINE_AA, 4)


def draw_display(
    text: str,
    style: DisplayStyle = DisplayStyle(),
    camera: Camera = Camera(),
    calibration: dict[str, Any] | None = None,
) -> DrawnDisplay:
    """A camera frame of a display showing `text`."""
    face, corners = draw_panel(text, style)
    width, height = camera.size
    scale = camera.panel_width * width / (corners[1, 0] - corners[0, 0])
    face_quad = np.array([[0, 0], [face.shape[1], 0], [face.shape[1], face.shape[0]], [0, face.shape[0]]], np.float32)
    homography = cv2.getPerspectiveTransform(face_quad, _place(face_quad, face.shape, scale, camera))
    frame_corners = cv2.perspectiveTransform(corners[None], homography)[0]
    if scale < 0.7:  # shrink before warping so the strokes are not aliased away
        face = cv2.GaussianBlur(face, (0, 0), 0.4 / scale)
    warped = cv2.warpPerspective(face, homography, (width, height), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones(face.shape[:2], np.float32), homography, (width, height))[..., None]
    frame = _background(camera) * (1 - inside) + warped * inside
    frame = _apply_camera(frame, frame_corners, style.digit_height * scale, camera)
    try:
        value = float(text.replace(" ", ""))
    except ValueError:
        value = float("nan")  # letters: not a number
    calibration = calibration or {"kind": "seven_segment", "roi": None, "digits": None, "decimals": None}
    return DrawnDisplay(frame, text, value, calibration, frame_corners, style, camera)


def _place(points: np.ndarray, face_shape: tuple[int, ...], scale: float, camera: Camera) -> np.ndarray:
    """Face coordinates to frame coordinates: scale, tilt, turn and move the face."""
    face_h, face_w = face_shape[:2]
    centred = (points - np.array([face_w / 2, face_h / 2])) * scale
    panel_w = face_w * scale
    tx, ty = camera.tilt  # a trapezoid: one side shorter, as when seen from that side
    shrink = 1 - tx * (centred[:, 0] / (panel_w / 2))
    centred = centred * np.stack([1 - ty * (centred[:, 1] / max(panel_w / 2, 1)), shrink], axis=1)
    angle = np.radians(camera.rotation)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    width, height = camera.size
    return (centred @ turn.T + np.array([camera.center[0] * width, camera.center[1] * height])).astype(np.float32)


def _background(camera: Camera) -> np.ndarray:
    """A cluttered scene: a wall-like gradient with boxes, pipes and cables."""
    rng = np.random.default_rng(camera.background_seed)
    width, height = camera.size
    base = rng.integers(40, 200, 3).astype(np.float32)
    ramp = np.linspace(-1, 1, width, dtype=np.float32)[None, :, None] * rng.uniform(-40, 40, 3).astype(np.float32)
    frame = np.clip(base + ramp, 0, 255) * np.ones((height, 1, 1), np.float32)
    for _ in range(rng.integers(3, 9)):
        colour = tuple(float(v) for v in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = rng.integers(3)
        if kind == 0:
            w, h = int(rng.integers(width // 20, width // 3)), int(rng.integers(height // 20, height // 3))
            cv2.rectangle(frame, (x, y), (x + w, y + h), colour, -1, cv2.LINE_AA)
        elif kind == 1:
            cv2.circle(frame, (x, y), int(rng.integers(width // 40, width // 8)), colour, -1, cv2.LINE_AA)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(frame, (x, y), end, colour, int(rng.integers(2, max(3, width // 60))), cv2.LINE_AA)
    return frame


def _apply_camera(frame: np.ndarray, panel: np.ndarray, digit_px: float, camera: Camera) -> np.ndarray:
    rng = np.random.default_rng(camera.background_seed + 1)
    height, width = frame.shape[:2]
    if camera.light_gradient:
        angle = np.radians(camera.light_angle)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        along = ((xs - width / 2) * np.cos(angle) + (ys - height / 2) * np.sin(angle)) / max(width, height)
        frame = frame * (1 - camera.light_gradient * (0.5 + along))[..., None]
    panel_w = float(np.linalg.norm(panel[1] - panel[0]))
    for x, y, radius, strength in camera.glare:
        centre = panel[0] + x * (panel[1] - panel[0]) + y * (panel[3] - panel[0])
        blob = np.zeros((height, width), np.float32)
        axes = (max(1, int(radius * panel_w)), max(1, int(radius * panel_w * 0.5)))
        cv2.ellipse(blob, (int(centre[0]), int(centre[1])), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), max(1.0, radius * panel_w * 0.4))
        frame = frame * (1 - strength * blob[..., None]) + 255 * strength * blob[..., None]
    if camera.blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), max(0.3, camera.blur * digit_px))
    if camera.noise > 0:
        frame = frame + rng.normal(0, camera.noise, frame.shape).astype(np.float32)
    image = np.clip(frame, 0, 255).astype(np.uint8)
    if camera.jpeg_quality:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, camera.jpeg_quality])
        image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return image


def random_text(
    rng: np.random.Generator, positions: int, *, decimals: int | None = None, leading_zeros: bool = False
) -> str:
    """A number that fits `positions` digit cells, as a display shows it."""
    negative = rng.random() < 0.2 and positions >= 2
    room = positions - (1 if negative else 0)
    decimals = int(rng.integers(0, min(3, room - 1) + 1)) if decimals is None else min(decimals, room - 1)
    length = room if leading_zeros else int(rng.integers(decimals + 1, room + 1))
    digits = "".join(str(d) for d in rng.integers(0, 10, length))
    if not leading_zeros:  # no leading zeros before the units digit
        whole = digits[: length - decimals].lstrip("0") or "0"
        digits = whole + digits[length - decimals :]
    text = digits if decimals == 0 else digits[:-decimals] + "." + digits[-decimals:]
    if negative and text.strip("0.") != "":
        text = "-" + text
    return text


def random_style(rng: np.random.Generator, positions: int | None = None) -> DisplayStyle:
    lcd = rng.random() < 0.5
    if lcd:
        panel = LCD_PANELS[rng.integers(len(LCD_PANELS))]
        segment = tuple(int(v) for v in rng.integers(15, 70, 3))
        ghost, glow = (float(rng.uniform(0.05, 0.2)) if rng.random() < 0.4 else 0.0), 0.0
    else:
        panel = tuple(int(v) for v in rng.integers(5, 45, 3))
        segment = LED_COLOURS[rng.integers(len(LED_COLOURS))]
        ghost, glow = (float(rng.uniform(0.05, 0.2)) if rng.random() < 0.3 else 0.0), float(rng.uniform(0, 0.04))
    housing = tuple(int(v) for v in rng.integers(10, 230, 3))
    width = float(rng.uniform(0.45, 0.62))
    return DisplayStyle(
        positions=int(positions or rng.integers(3, 7)),
        digit_height=float(rng.uniform(50, 90)),
        width=width,
        stroke=float(rng.uniform(0.09, min(0.18, width / 4))),  # bars longer than thick
        gap=float(rng.choice([0.0, 0.01, 0.025])),
        spacing=float(rng.uniform(0.18, 0.35)),
        slant=float(rng.choice([0.0, 0.0, rng.uniform(0.05, 0.2)])),
        shape=SHAPES[rng.integers(len(SHAPES))],
        variants=rng.random() < 0.3,
        lcd=lcd,
        panel=panel,
        segment=segment,
        ghost=ghost,
        glow=glow,
        housing=housing,
        housing_margin=float(rng.uniform(0.15, 0.6)),
        # Some LCDs (fuel pumps) print the lit point red.
        point_colour=(50, 40, int(rng.integers(150, 220))) if lcd and rng.random() < 0.25 else None,
    )


def random_camera(rng: np.random.Generator, style: DisplayStyle, size: tuple[int, int] | None = None) -> Camera:
    width, height = size or SIZES[rng.integers(len(SIZES))]
    face_w, face_h, panel_w = face_size(style)
    panel_width = float(rng.uniform(0.3, 0.7))
    panel_width = min(panel_width, 0.8 * height / (face_h / panel_w) / width)  # the face fits the frame
    half_w = 0.5 * panel_width * face_w / panel_w + 0.03
    half_h = 0.5 * panel_width * width * face_h / panel_w / height + 0.03
    glare = tuple(
        (
            float(rng.uniform(0, 1)),
            float(rng.uniform(0, 1)),
            float(rng.uniform(0.05, 0.25)),
            float(rng.uniform(0.2, 0.55)),
        )
        for _ in range(rng.choice([0, 0, 1, 2]))
    )
    return Camera(
        size=(width, height),
        panel_width=panel_width,
        center=(
            float(rng.uniform(min(half_w, 0.5), max(1 - half_w, 0.5))),
            float(rng.uniform(min(half_h, 0.5), max(1 - half_h, 0.5))),
        ),
        rotation=float(rng.uniform(-5, 5)),
        tilt=(float(rng.uniform(-0.06, 0.06)), float(rng.uniform(-0.06, 0.06))),
        light_gradient=float(rng.uniform(0, 0.5)),
        light_angle=float(rng.uniform(0, 360)),
        glare=glare,
        blur=float(rng.choice([0.0, rng.uniform(0.005, 0.025)])),
        noise=float(rng.uniform(0, 8)),
        jpeg_quality=int(rng.integers(40, 95)) if rng.random() < 0.7 else None,
        background_seed=int(rng.integers(1 << 30)),
    )


def random_display(rng: np.random.Generator, size: tuple[int, int] | None = None) -> DrawnDisplay:
    """A display of random style and value in a random camera frame."""
    style = random_style(rng)
    text = random_text(rng, style.positions, leading_zeros=rng.random() < 0.1)
    camera = random_camera(rng, style, size)
    return draw_display(text, style, camera)
