"""Read an analog gauge (a round dial and a needle) from an image.

The frame is shrunk to a small working size first: a needle a hundred pixels long
already gives its angle to a fraction of a degree, and everything after is cheap.

1. Dial: Canny edges and `hough_circle` on a coarse copy find the dial; a least-squares
   fit to the edge points near that circle places its centre to a pixel at working size.
   A calibration that carries `center` and `radius` skips this.
2. Needle: morphological black-hat and top-hat keep the thin structures darker or
   lighter than the face (and, in colour frames, more coloured than it), whatever the
   light across the dial. Canny edges of such a response go into `hough_line`; lines
   that pass through the centre are the needle's candidates. The tip is the end that
   runs far out along the face (the tail stops near the hub), seen in a polar profile
   of the same response. A line through the needle's middle, fitted slice by slice
   along it, then gives the angle, independently of small errors in the centre.
3. Checks: a dial must be a circle covered by edges well beyond chance, and a needle
   must stand out from the face and be seen all the way from the hub outwards;
   otherwise the answer is a ReadError that says which was missing.
4. A second opinion: a small learned scorer (`edge_reader/pointer_directions.py`) gives
   a probability for each direction. Where nearly all of it lies on the needle found,
   two methods that share no step agree, and the reading is surer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from skimage.feature import canny
from skimage.transform import hough_circle, hough_line

from edge_reader.calibration import CalibrationError, DialCalibration, calibration_from_angles, validate_calibration
from edge_reader.images import ImageLike, load_image
from edge_reader.pointer import degrees_apart, find_pointer
from edge_reader.pointer_directions import direction_probabilities, support
from edge_reader.result import ReadError, Reading

MIN_SIDE = 32  # pixels: smaller frames hold no readable dial
WORK_SIDE = 320  # longest side of the working image, pixels
COARSE_SIDE = 128  # longest side of the image the dial is searched in
DIAL_RADII = (0.18, 0.56)  # dial radius range, as fractions of the image's shorter side
MIN_DIAL_SCORE = 0.25  # share of a circle's perimeter on edges, beyond chance
NEEDLE_BAND = (0.25, 0.58)  # radii, as fractions of the dial radius, where only the needle runs
NEEDLE_FIT = (0.15, 0.58)  # radii of the stretch of needle its angle is fitted on
RIM_SECTORS = 36  # the dial's rim must be seen in at least half of these
MIN_NEEDLE_CONTRAST = 30.0  # grey levels between the needle and the face
MIN_NEEDLE_CONTINUITY = 0.75  # share of the needle's stretch where it must be seen
CROP_ASPECT = 1.25  # a frame no longer than this times its width is taken for a crop around the dial
MAX_RADIUS_PER_SIDE = 4.0  # a given radius past this many times the frame's longest side is not this camera's
CROP_RADIUS = 0.9  # in a crop, the pointer is looked for out to this share of the half side
CROP_MIN_DIAL = 0.75  # a circle found in a crop this large (of the half side) is the dial's rim
CROP_CENTRE_SLACK = 0.15  # a circle found in a crop is its dial if its centre is this near the middle
AGREEMENT_DEGREES = 5.0  # the line and the mass stages agree within this
NEAR_DEGREES = 20.0  # and see the same pointer within this
# Radii, as fractions of the dial radius found, searched for the ring of ticks (the rim
# found may be a bezel's outer edge), in steps of 0.025; a ring is 7 steps deep.
SCALE_RADII = np.linspace(0.35, 1.0, 27, dtype=np.float32)
SCALE_BAND_STEPS = 7
SCALE_MARKED = 0.45  # a degree whose strongest nearby mark falls below this share of the usual is unmarked
UNSURE_SCALE_CONFIDENCE = 0.4  # a range-only reading with no scale seen, or one ring against the others: refused
SCALE_BARE = 0.25  # a ring whose bare quarter is this dark, of its marks' level, is a bezel or a band
GAP_OFF_BOTTOM = 40.0  # degrees: a gauge leaves its scale's gap at the bottom, give or take a camera's roll
PAST_SCALE_END = 10.0  # degrees into the scale's gap a pointer at rest on its stop pin stands, at most
POINTER_COVER = 25.0  # degrees each side of the pointer where it may hide the scale's marks
SCALE_GAP_AGREEMENT = 15.0  # degrees between two rings' gap middles that make them the same gap
SCALE_GAP_DOMINANCE = 1.5  # the scale's gap is this much wider than any other unmarked run
MIN_SCALE_SWEEP = 90.0  # degrees: a shorter run of marks is a word or a logo, not a scale
MIN_SCALE_GAP = 30.0  # degrees: a narrower unmarked run is a gap between numbers, not the scale's end
SUPPORT_WITHIN = 6.0  # degrees: the learned scorer's probability this near the needle supports it
SUPPORTED = 0.95  # the share of that probability at which the needle found counts as seconded
SUPPORT_LIFT = 1.25  # how much surer a seconded needle is


@dataclass(frozen=True)
class Dial:
    center: tuple[float, float]  # pixels of the full-size image
    radius: float
    score: float  # 0..1, share of the circle found on edges beyond chance (1 when given)


@dataclass(frozen=True)
class Needle:
    angle: float  # degrees clockwise from 12 o'clock
    confidence: float
    support: float | None = None  # the learned scorer's probability within SUPPORT_WITHIN of the angle


def read_gauge(image: ImageLike, calibration: dict[str, Any]) -> Reading:
    """The value the gauge shows, with the needle angle and a confidence in 0..1."""
    dial_calibration = validate_calibration(calibration)
    frame = load_image(image, min_side=MIN_SIDE)
    dial, needle = _measure(frame, dial_calibration.center, dial_calibration.radius)
    details: dict[str, Any] = {"angle": round(needle.angle, 2)}
    if needle.support is not None:
        details["learned_support"] = round(needle.support, 3)
    scale_given, doubt = dial_calibration.angles_given, None
    if not scale_given:
        scale = find_scale(frame, dial, needle.angle)
        dial_calibration = replace(dial_calibration, min_angle=scale.min_angle, sweep=scale.sweep)
        if dial_calibration.direction == "ccw":
            dial_calibration = replace(dial_calibration, min_angle=(scale.min_angle + scale.sweep) % 360)
        details["scale"] = {"min_angle": round(dial_calibration.min_angle, 1), "sweep": round(scale.sweep, 1)}
        doubt = _scale_doubt(scale, dial_calibration, needle.angle)
        if doubt is not None:
            details["doubt"] = f"{doubt}; give the scale's min_angle and max_angle"
    value = dial_calibration.value_at(needle.angle)
    confidence = needle.confidence * min(1.0, 0.5 + dial.score)
    if scale_given and needle.support is not None and needle.support >= SUPPORTED:
        # Two methods that share no step see the needle in the same place. With the range
        # only, the scale's ends are the larger doubt, and the learned scorer cannot see them.
        confidence = min(1.0, confidence * SUPPORT_LIFT)
    if doubt is not None:
        confidence *= UNSURE_SCALE_CONFIDENCE  # range only, and the scale's ends a guess
    geometry = {
        "center": dial.center,
        "radius": dial.radius,
        "angle": needle.angle,
        "min_angle": dial_calibration.min_angle % 360,
        "max_angle": dial_calibration.max_angle % 360,
    }
    return Reading(value=round(value, 6), confidence=round(confidence, 3), details=details, geometry=geometry)


@dataclass(frozen=True)
class Scale:
    min_angle: float  # the clockwise-first end of the printed scale, degrees clockwise from 12
    sweep: float  # degrees from there, clockwise, to the other end (360 when ticks run all round)
    found: bool = True  # False: no ring of printed marks was seen, and 12 o'clock all round is a guess
    # False: one ring alone says so, or most rings that are a scale say otherwise (ticks,
    # numbers and a scale's band make several rings that agree; a shadow, the bezel's edge
    # or a label one ring alone).
    corroborated: bool = True

    def gap_off_bottom(self) -> float:
        """Degrees from 6 o'clock to the middle of the gap between the scale's ends (0 with no gap)."""
        if self.sweep >= 360:
            return 0.0
        return degrees_apart(self.min_angle + self.sweep + (360 - self.sweep) / 2, 180.0)


def _scale_doubt(scale: Scale, calibration: DialCalibration, needle_angle: float) -> str | None:
    """Why the scale's ends found with the range only are a guess, or None when they are not."""
    if not scale.found:
        return "no printed scale was seen"
    if not scale.corroborated:
        # One ring alone (a shadow, the bezel's edge, a label), or against the others.
        return "the scale's ends rest on one ring of marks"
    if calibration.outside_scale(needle_angle) > PAST_SCALE_END:
        # No gauge in use points well inside its gap; a fat pointer hides the marks beneath
        # it, and the gap found may be the one it makes rather than the stop pin's.
        return "the pointer stands in the scale's gap"
    if scale.gap_off_bottom() > GAP_OFF_BOTTOM:
        # Gauges leave the gap at the bottom: one found far round is more often a full
        # circle of ticks whose faint part, or the pointer's shadow, was taken for a gap.
        return "the scale's gap was found far from the bottom"
    return None


def find_scale(frame: np.ndarray, dial: Dial, needle_angle: float | None = None) -> Scale:
    """The printed scale's arc: where the ring of ticks starts and ends.

    The ticks are thin marks in a ring inside the rim; between the scale's two ends
    there is a gap without any (the stop pin's zone). The face is unwrapped around the
    centre and each ring of it, at every depth inside the rim found (which may be a thick
    bezel's outer edge), is scored degree by degree by its thin-mark response; the rings
    that are a scale (_scale_rings) vote, and the outer one places it (scale_verdict).
    Ticks all round mean a full-circle scale starting at 12 o'clock; no ring that is a
    scale means the same, guessed (found=False).
    """
    scale = min(1.0, WORK_SIDE / max(frame.shape[:2]))
    work = frame if scale == 1 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey, _ = _grey_and_chroma(work)
    radius = dial.radius * scale
    center = (dial.center[0] * scale, dial.center[1] * scale)
    size = max(3, int(0.1 * radius) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    marks = cv2.max(
        cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel), cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    ).astype(np.float32)
    polar = _polar(marks, center, SCALE_RADII * radius)
    # A wide pointer hides the marks under it: near it, an unmarked run may be its cover.
    near_pointer = np.zeros(polar.shape[0], bool)
    if needle_angle is not None:
        offsets = np.abs((np.arange(polar.shape[0]) - needle_angle + 180) % 360 - 180)
        polar[offsets <= 8] = 0.0
        near_pointer = offsets <= POINTER_COVER
    rings = _scale_rings(polar, near_pointer)
    if not rings:
        return Scale(0.0, 360.0, found=False)
    (per_degree, gap_start, gap_length), corroborated = scale_verdict(rings)
    if gap_length == 0:
        return Scale(0.0, 360.0, corroborated=corroborated)
    # The ±4° window widened every mark: each end is the middle of the strongest mark
    # just inside it, the end tick.
    min_angle = _end_tick(per_degree, gap_start + gap_length, +1)
    max_angle = _end_tick(per_degree, gap_start - 1, -1)
    sweep = (max_angle - min_angle) % 360
    return Scale(float(min_angle), float(sweep or 360.0), corroborated=corroborated)


Ring = tuple[np.ndarray, int, int]  # per degree the strongest mark; the gap's start and length (0: none)


def scale_verdict(rings: list[Ring]) -> tuple[Ring, bool]:
    """The ring that places the scale, rings given from the centre out, and whether
    most rings say the same: the outer wins, since ticks are printed outside the
    numbers; one ring alone, or one most others contradict, may be a shadow, the
    bezel's edge or a label."""
    outer = rings[-1]
    agreeing = sum(_same_gap(ring, outer) for ring in rings)
    return outer, len(rings) >= 2 and 2 * agreeing > len(rings)


def _same_gap(one: Ring, other: Ring) -> bool:
    """Two rings say the same: both marked all round, or gaps whose middles are close."""
    if one[2] == 0 or other[2] == 0:
        return one[2] == other[2]
    return degrees_apart(one[1] + one[2] / 2, other[1] + other[2] / 2) <= SCALE_GAP_AGREEMENT


def _scale_rings(polar: np.ndarray, near_pointer: np.ndarray) -> list[Ring]:
    """The rings of radii that are a scale, from the centre out: per degree each one's
    strongest mark, and the start and length of its gap (length 0: marked all round).

    A ring of the scale alternates marks with bare face (a bezel is dark all round, and
    so is a coloured band). Its gap is an unmarked run of at least MIN_SCALE_GAP, clearly
    the widest (sparse ticks leave runs between them too), leaving an arc of at least
    MIN_SCALE_SWEEP (the unit's word or a logo is not a scale), and wide enough without
    the degrees a wide pointer may cover."""
    rings: list[Ring] = []
    for start in range(0, polar.shape[1] - SCALE_BAND_STEPS + 1, 2):
        per_degree = polar[:, start : start + SCALE_BAND_STEPS].max(axis=1)
        # A tick every few degrees: the strongest mark within ±4° says whether a degree is on the scale.
        padded = np.concatenate([per_degree[-4:], per_degree, per_degree[:4]])
        covered = np.lib.stride_tricks.sliding_window_view(padded, 2 * 4 + 1).max(axis=1)
        level = float(np.percentile(covered, 75))
        if level < MIN_NEEDLE_CONTRAST or float(np.percentile(per_degree, 25)) > SCALE_BARE * level:
            continue
        unmarked = covered <= SCALE_MARKED * level
        gap_start, gap_length = _longest_circular_run(unmarked)
        in_gap = (gap_start + np.arange(gap_length)) % unmarked.size
        if gap_length < MIN_SCALE_GAP:
            rings.append((per_degree, 0, 0))
            continue
        if gap_length - int(near_pointer[in_gap].sum()) < MIN_SCALE_GAP:
            continue  # a gap, or the pointer's cover: this ring cannot tell
        rest = unmarked.copy()
        rest[in_gap] = False
        _, second = _longest_circular_run(rest)
        if 360 - gap_length >= MIN_SCALE_SWEEP and gap_length >= SCALE_GAP_DOMINANCE * second:
            rings.append((per_degree, gap_start, gap_length))
    return rings


def _end_tick(per_degree: np.ndarray, edge: int, inwards: int) -> float:
    """The angle of the strongest mark within 8° inwards of a gap's edge."""
    degrees = (edge + inwards * np.arange(9)) % per_degree.size
    return float(degrees[int(np.argmax(per_degree[degrees]))])


def _longest_circular_run(flags: np.ndarray) -> tuple[int, int]:
    """Start and length of the longest run of True, going round the end of the array."""
    if flags.all():
        return 0, flags.size
    shift = int(np.argmin(flags))  # start the walk on a False so no run wraps
    rolled = np.roll(flags, -shift)
    best_start, best_length, start = 0, 0, None
    for index, flag in enumerate(np.append(rolled, False)):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            if index - start > best_length:
                best_start, best_length = start, index - start
            start = None
    return (best_start + shift) % flags.size, best_length


def measure_dial(
    image: ImageLike, center: tuple[float, float] | None = None, radius: float | None = None
) -> tuple[Dial, float]:
    """The dial (found, or as given) and the needle angle: what a calibration is made from."""
    dial, needle = _measure(load_image(image, min_side=MIN_SIDE), center, radius, seconded=False)
    return dial, needle.angle


def _grey_and_chroma(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey levels, and how coloured each pixel is (max - min of B, G, R; None for grey input).

    A red needle on a black face is dull in grey but stands out in chroma.
    """
    if image.ndim == 2:
        return image, None
    channels = cv2.split(image)
    chroma = cv2.subtract(cv2.max(cv2.max(*channels[:2]), channels[2]), cv2.min(cv2.min(*channels[:2]), channels[2]))
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), chroma


def _measure(
    image: np.ndarray, center: tuple[float, float] | None, radius: float | None, seconded: bool = True
) -> tuple[Dial, Needle]:
    """The dial and the needle; with `seconded`, the learned scorer's support for the needle."""
    longest = max(image.shape[:2])
    if radius is not None and radius > MAX_RADIUS_PER_SIDE * longest:
        # Every ring the reader unwraps grows with the radius: one far past the frame is a
        # set-up for another camera (or another resolution), and would cost minutes to read
        # nothing. This frame is unreadable with it; the next may not be.
        raise ReadError(f"the calibration's radius ({radius:g} px) is far larger than this {longest}-px frame")
    scale = min(1.0, WORK_SIDE / longest)
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    work, chroma = _grey_and_chroma(image)
    if center is not None and radius is not None:
        work_center, work_radius, score = (center[0] * scale, center[1] * scale), radius * scale, 1.0
    else:
        work_center, work_radius, score = _find_dial_or_crop(work, center, radius, scale)
    # In a photo cut down to the dial with no centre given, the centre is the crop's own or a
    # circle found inside it: a guess that may sit a few pixels off the pointer's pivot.
    centre_guessed = center is None and radius is None and _looks_cropped(work.shape)
    needle = _find_needle(image, work, chroma, work_center, work_radius, centre_guessed)
    if seconded:
        needle = _with_support(image, work_center, work_radius, needle)
    dial = Dial(center=(work_center[0] / scale, work_center[1] / scale), radius=work_radius / scale, score=score)
    return dial, needle


# --- the dial -----------------------------------------------------------------------


def _find_dial(
    work: np.ndarray, center: tuple[float, float] | None, radius: float | None, scale: float
) -> tuple[tuple[float, float], float, float]:
    coarse_scale = min(1.0, COARSE_SIDE / max(work.shape))
    coarse = cv2.resize(work, None, fx=coarse_scale, fy=coarse_scale, interpolation=cv2.INTER_AREA)
    edges = canny(coarse, sigma=1.5, low_threshold=10, high_threshold=25)
    short = min(coarse.shape)
    if radius is not None:
        r = radius * scale * coarse_scale
        radii = np.arange(max(4.0, r - 2), r + 2.5, 1.0)
    else:
        radii = np.arange(DIAL_RADII[0] * short, DIAL_RADII[1] * short, 1.0)  # coarser steps miss thin edges
    accumulator = hough_circle(edges, radii, normalize=True, full_output=False)
    if center is not None:
        accumulator = _only_near(accumulator, center[0] * scale * coarse_scale, center[1] * scale * coarse_scale, 3.0)
    # Text and ticks cover a good share of a small circle's few pixels by chance; the dial
    # is the circle that is both large and well covered.
    preference = accumulator * np.sqrt(radii)[:, None, None]
    index, row, col = np.unravel_index(int(np.argmax(preference)), accumulator.shape)
    # In clutter (foliage, texture, sensor noise) any circle finds edges by chance: count
    # only the coverage beyond what the edge density alone would give.
    chance = min(0.9, 1.5 * float(edges.mean()))
    score = (float(accumulator[index, row, col]) - chance) / (1.0 - chance)
    if score < MIN_DIAL_SCORE:
        raise ReadError("no dial found: no round dial edge in the image")
    coarse_center = (col / coarse_scale, row / coarse_scale)
    coarse_radius = float(radii[index]) / coarse_scale
    refined_center, refined_radius = _refine_circle(work, coarse_center, coarse_radius)
    return refined_center, radius * scale if radius is not None else refined_radius, min(1.0, score)


def _find_dial_or_crop(
    work: np.ndarray, center: tuple[float, float] | None, radius: float | None, scale: float
) -> tuple[tuple[float, float], float, float]:
    """The dial found in the frame; in a frame cropped to the dial, the crop's own circle
    unless a circle near its middle is found.

    A photo cut down to the dial often cuts its rim, and the circles found inside it
    are the ring of digits or the hub as often as the face, so only the centre of a
    found circle is trusted there, and the pointer is looked for out to the crop's edge.
    """
    if center is not None or radius is not None or not _looks_cropped(work.shape):
        return _find_dial(work, center, radius, scale)
    height, width = work.shape
    middle, half_side = ((width - 1) / 2, (height - 1) / 2), 0.5 * min(height, width)
    try:
        found_center, found_radius, score = _find_dial(work, None, None, scale)
    except ReadError:
        return middle, CROP_RADIUS * half_side, 0.5
    if math.hypot(found_center[0] - middle[0], found_center[1] - middle[1]) > CROP_CENTRE_SLACK * half_side:
        return middle, CROP_RADIUS * half_side, 0.5
    if found_radius >= CROP_MIN_DIAL * half_side:  # the dial's own rim, inside the crop
        return found_center, found_radius, max(score, 0.5)
    return found_center, max(found_radius, CROP_RADIUS * half_side), max(score, 0.5)


def _only_near(accumulator: np.ndarray, x: float, y: float, distance: float) -> np.ndarray:
    rows, cols = np.ogrid[: accumulator.shape[1], : accumulator.shape[2]]
    far = (cols - x) ** 2 + (rows - y) ** 2 > distance**2
    accumulator = accumulator.copy()
    accumulator[:, far] = 0
    return accumulator


def _refine_circle(work: np.ndarray, center: tuple[float, float], radius: float) -> tuple[tuple[float, float], float]:
    """Place the dial's rim to a pixel: the circle near the coarse one seen all the way round.

    A dial has several concentric rims (face, bezel inside and out) a few pixels apart,
    and uneven light hides each in places; the top of one and the bottom of another can
    pass for a circle whose centre is off. So each centre near the coarse one is scored
    by how many of 36 sectors hold edge points at one common radius, and only the best
    rim's points are fitted. Keeps the coarse circle if unsure.
    """
    edges = canny(work, sigma=1.2, low_threshold=10, high_threshold=25)
    ys, xs = (coordinates.astype(np.float32) for coordinates in np.nonzero(edges))
    band = np.abs(np.hypot(xs - center[0], ys - center[1]) - radius) < max(5.0, 0.18 * radius)
    xs, ys = xs[band], ys[band]
    if xs.size < 20:
        return center, radius
    reach = 4  # working pixels: two coarse pixels, more than the coarse search is ever off
    offsets = np.arange(-reach, reach + 1, 1.0, dtype=np.float32)
    candidate_x = (center[0] + offsets[None, :] + 0 * offsets[:, None]).ravel()
    candidate_y = (center[1] + offsets[:, None] + 0 * offsets[None, :]).ravel()
    dx, dy = xs[None, :] - candidate_x[:, None], ys[None, :] - candidate_y[:, None]
    distance = np.rint(np.hypot(dx, dy) - radius).astype(np.int64)
    sector = ((np.arctan2(dy, dx) + math.pi) / (2 * math.pi) * RIM_SECTORS).astype(np.int64) % RIM_SECTORS
    span = int(max(5.0, 0.18 * radius)) + reach + 2
    keep = np.abs(distance) < span
    radius_bins = 2 * span + 1
    candidate = np.broadcast_to(np.arange(candidate_x.size)[:, None], distance.shape)
    index = (candidate[keep] * radius_bins + distance[keep] + span) * RIM_SECTORS + sector[keep]
    counts = np.bincount(index, minlength=candidate_x.size * radius_bins * RIM_SECTORS)
    counts = counts.reshape(candidate_x.size, radius_bins, RIM_SECTORS)
    # A rim one pixel wide may fall either side of a rounding: look at three radii at once.
    counts = counts[:, :-2] + counts[:, 1:-1] + counts[:, 2:]
    coverage = (counts > 0).sum(axis=2)
    # Radial tick marks cross every radius in every sector; a rim is the circle seen all
    # round that also holds the most points.
    points = np.where(coverage >= 0.9 * coverage.max(), counts.sum(axis=2), -1)
    best_candidate, best_bin = np.unravel_index(int(np.argmax(points)), points.shape)
    if coverage[best_candidate, best_bin] < RIM_SECTORS // 2:
        return center, radius
    fitted_center = (float(candidate_x[best_candidate]), float(candidate_y[best_candidate]))
    fitted_radius = radius + best_bin + 1 - span
    for tolerance in (1.5, 1.2):
        near = np.abs(np.hypot(xs - fitted_center[0], ys - fitted_center[1]) - fitted_radius) < tolerance
        if near.sum() < 20:
            return center, radius
        fitted_center, fitted_radius = _fit_circle(xs[near].astype(float), ys[near].astype(float))
    moved = math.hypot(fitted_center[0] - center[0], fitted_center[1] - center[1])
    if moved > 0.1 * radius or abs(fitted_radius - radius) > 0.2 * radius:
        return center, radius
    return fitted_center, fitted_radius


def _fit_circle(xs: np.ndarray, ys: np.ndarray) -> tuple[tuple[float, float], float]:
    """Algebraic least-squares circle (Kåsa): x² + y² = 2ax + 2by + c."""
    design = np.column_stack([2 * xs, 2 * ys, np.ones_like(xs)])
    (a, b, c), *_ = np.linalg.lstsq(design, xs**2 + ys**2, rcond=None)
    return (float(a), float(b)), float(math.sqrt(max(c + a * a + b * b, 1.0)))


# --- the needle ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _unit_rays(angle_step: float) -> tuple[np.ndarray, np.ndarray]:
    """x and y steps of a ray at each angle; image y grows downwards."""
    theta = np.radians(np.arange(0.0, 360.0, angle_step))
    return np.sin(theta).astype(np.float32), -np.cos(theta).astype(np.float32)


def _polar(image: np.ndarray, center: tuple[float, float], radii: np.ndarray, angle_step: float = 1.0) -> np.ndarray:
    """image sampled along rays from the centre: rows are angles, columns radii."""
    sin, minus_cos = _unit_rays(angle_step)
    map_x = (center[0] + sin[:, None] * radii[None, :]).astype(np.float32)
    map_y = (center[1] + minus_cos[:, None] * radii[None, :]).astype(np.float32)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _needle_responses(work: np.ndarray, chroma: np.ndarray | None, radius: float) -> list[np.ndarray]:
    """Thin structures darker than the face (black-hat), lighter (top-hat), more coloured."""
    size = max(5, int(0.16 * radius) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    responses = [
        cv2.morphologyEx(work, cv2.MORPH_BLACKHAT, kernel).astype(np.float32),
        cv2.morphologyEx(work, cv2.MORPH_TOPHAT, kernel).astype(np.float32),
    ]
    if chroma is not None and int(chroma.max()) >= MIN_NEEDLE_CONTRAST:
        responses.append(cv2.morphologyEx(chroma, cv2.MORPH_TOPHAT, kernel).astype(np.float32))
    return responses


def _band_profile(response: np.ndarray, center: tuple[float, float], radius: float) -> np.ndarray:
    """Per degree, how consistently the response runs along the ray through the band.

    A low percentile along the ray rewards a structure that spans the whole band (the
    needle) over numbers and labels that cover part of it.
    """
    radii = np.linspace(NEEDLE_BAND[0] * radius, NEEDLE_BAND[1] * radius, 24, dtype=np.float32)
    polar = _polar(response, center, radii)
    return np.percentile(polar, 35, axis=1)


def _looks_cropped(shape: tuple[int, ...]) -> bool:
    """A nearly square frame: a photo cut down to the dial."""
    return max(shape[:2]) <= CROP_ASPECT * min(shape[:2])


def _find_needle(
    image: np.ndarray,
    work: np.ndarray,
    chroma: np.ndarray | None,
    center: tuple[float, float],
    radius: float,
    centre_guessed: bool = False,
) -> Needle:
    """The needle by its straight edges and by its mass; where both see it, they must agree.

    Straight lines place a thin needle to a fraction of a degree; the mass finds a
    filled pointer of any shape, and tells the tip from the tail by its reach. When the
    two disagree, the one more sure of itself is taken with a confidence cut, since one
    of them has been fooled.
    """
    line_error: ReadError | None = None
    try:
        line: Needle | None = _needle_by_lines(work, chroma, center, radius)
    except ReadError as error:
        line, line_error = None, error
    mass = find_pointer(image, center, radius)
    if mass is None:
        if line is None:
            raise line_error or ReadError("no needle found")
        return line
    by_mass = Needle(angle=mass.angle, confidence=mass.confidence)
    if line is None:
        return by_mass
    apart = degrees_apart(line.angle, mass.angle)
    if apart <= AGREEMENT_DEGREES:
        return Needle(angle=line.angle, confidence=max(line.confidence, mass.confidence))
    surer = line if line.confidence >= mass.confidence else by_mass
    if apart <= NEAR_DEGREES:
        if centre_guessed:
            # The line stage's angle hangs on the centre, which is only a guess here and turns
            # it by degrees when a few pixels off; the mass stage sees the tip from the
            # pointer's own pivot.
            return by_mass
        # The same pointer, placed differently: a thin needle blurs away towards its tip at
        # the mass stage's scale, a fat one shows a straight edge beside its axis.
        return surer
    return Needle(angle=surer.angle, confidence=surer.confidence * 0.5)


def _with_support(image: np.ndarray, center: tuple[float, float], radius: float, needle: Needle) -> Needle:
    """The needle, with the learned scorer's probability that the pointer points there.

    The scorer was trained on drawn dials only and shares no step with the line and mass
    stages; on its own it is rougher than they are, so it never moves the needle: it only
    seconds what they found.
    """
    seen = support(direction_probabilities(image, center, radius), needle.angle, SUPPORT_WITHIN)
    return replace(needle, support=seen)


def _needle_by_lines(work: np.ndarray, chroma: np.ndarray | None, center: tuple[float, float], radius: float) -> Needle:
    """The needle in whichever response (darker, lighter, more coloured) shows it best."""
    profiled = [
        (_band_profile(response, center, radius), response) for response in _needle_responses(work, chroma, radius)
    ]
    contrasts = [float(profile.max() - np.median(profile)) for profile, _ in profiled]
    if max(contrasts) < MIN_NEEDLE_CONTRAST:
        raise ReadError("no needle found: nothing runs from the dial centre towards the scale")
    found: list[tuple[float, Needle]] = []
    order = sorted(range(len(profiled)), key=lambda i: -contrasts[i])
    if len(profiled) == 3 and contrasts[2] >= 0.5 * max(contrasts):
        # Ticks and numbers are black or white: a coloured needle stands alone in chroma.
        order = [2] + [i for i in order if i != 2]
    for contrast, (profile, response) in ((contrasts[i], profiled[i]) for i in order):
        if contrast < MIN_NEEDLE_CONTRAST:
            continue
        axes = _hough_axes(response, center, radius)
        angle = _choose_direction(profile, axes)
        angle, beside = _fit_needle(response, center, radius, angle)
        continuity = _continuity(
            response,
            center,
            radius,
            angle,
            beside,
            needle_level=float(profile.max()),
            face_level=float(np.median(profile)),
        )
        if continuity < MIN_NEEDLE_CONTINUITY:
            continue
        confidence = _confidence(profile, angle, contrast, axes) * min(1.0, continuity / 0.95)
        found.append((continuity, Needle(angle=angle % 360, confidence=confidence)))
        if continuity >= 0.9:
            break  # seen all along: the strongest response that shows it whole is the one
    if not found:
        raise ReadError("no needle found: no straight line runs out from the dial centre")
    return max(found, key=lambda item: item[0])[1]


def _continuity(
    response: np.ndarray,
    center: tuple[float, float],
    radius: float,
    angle: float,
    beside: float,
    *,
    needle_level: float,
    face_level: float,
) -> float:
    """Share of the stretch from the hub to the band's end where the needle is seen.

    Numbers and labels near the centre respond strongly too, but only over part of it.
    """
    along = np.linspace(0.15 * radius, NEEDLE_BAND[1] * radius, 40, dtype=np.float32)
    across = np.array([beside - 1.0, beside, beside + 1.0], dtype=np.float32)  # a thin needle
    seen = _sample_strip(response, center, angle, along, across).max(axis=1)
    return float((seen > face_level + 0.35 * (needle_level - face_level)).mean())


def _hough_axes(response: np.ndarray, center: tuple[float, float], radius: float) -> list[tuple[float, float]]:
    """Axis angles (mod 180) of the strongest straight lines passing through the centre, with votes."""
    edges = canny(response, sigma=1.0, low_threshold=8, high_threshold=20)
    height, width = response.shape
    rows, cols = np.ogrid[:height, :width]
    distance = np.hypot(cols - center[0], rows - center[1])
    edges &= (distance > 0.12 * radius) & (distance < 0.8 * radius)
    thetas = np.radians(np.arange(-90.0, 90.0, 0.5))
    accumulator, angles, rhos = hough_line(edges, theta=thetas)
    # A line through the centre has rho = cx cos θ + cy sin θ; allow for the needle's width.
    through = center[0] * np.cos(angles) + center[1] * np.sin(angles)
    tolerance = max(2.0, 0.06 * radius)
    near = np.abs(rhos[:, None] - through[None, :]) <= tolerance
    votes = np.where(near, accumulator, 0).max(axis=0).astype(float)
    axes: list[tuple[float, float]] = []
    for _ in range(3):
        best = int(np.argmax(votes))
        if votes[best] < 0.15 * radius:
            break
        axes.append((math.degrees(angles[best]) % 180, float(votes[best])))
        neighbourhood = (np.arange(votes.size) - best) % votes.size
        votes[(neighbourhood < 20) | (neighbourhood > votes.size - 20)] = 0  # ±10°
    return axes


def _profile_at(profile: np.ndarray, angle: float) -> float:
    return float(profile[int(round(angle)) % profile.size])


def _choose_direction(profile: np.ndarray, axes: list[tuple[float, float]]) -> float:
    """The tip's direction: of each line's two ends, the one running out along the band."""
    peak = float(np.argmax(profile))
    ends = [
        (max(_profile_at(profile, end + d) for d in (-1, 0, 1)), end)
        for axis, _votes in axes
        for end in (axis, axis + 180)
    ]
    # The line's angle is exact where the profile's 1° bins are not, so a line end that
    # runs along the band nearly as strongly as the profile's peak wins.
    best_score, best_end = max(ends, default=(-math.inf, peak))
    return best_end if best_score >= 0.8 * _profile_at(profile, peak) else peak


def _fit_needle(response: np.ndarray, center: tuple[float, float], radius: float, angle: float) -> tuple[float, float]:
    """Refine the angle with a line fit to the needle's middle, slice by slice along it.

    The response is resampled in a strip that follows the candidate angle; in each slice
    across the strip the needle's middle is the weighted centroid. A straight line through
    those middles, refitted without the slices a number or a tick pulled aside, gives the
    needle's direction whatever small error the dial centre has. Returns the angle and
    how far, in pixels, the needle's line passes beside the centre.
    """
    along = np.linspace(NEEDLE_FIT[0] * radius, NEEDLE_FIT[1] * radius, 24, dtype=np.float32)
    half_width = max(3.0, 0.08 * radius)
    across = np.arange(-half_width, half_width + 0.01, 0.5, dtype=np.float32)
    # Trust the candidate's line: a number beside the needle weighs less than the needle.
    window = np.exp(-0.5 * (across / max(1.5, 0.04 * radius)) ** 2)[None, :]
    beside = 0.0
    for _ in range(2):
        strip = _sample_strip(response, center, angle, along, across)
        weights = np.clip(strip - 0.4 * strip.max(axis=1, keepdims=True), 0, None) * window
        totals = weights.sum(axis=1)
        usable = totals > 0
        if usable.sum() < 6:
            break
        middles = (weights[usable] * across[None, :]).sum(axis=1) / totals[usable]
        line = _robust_line(along[usable], middles)
        if line is None or abs(line[0]) > 0.15:
            break  # the strip held something else than a needle
        slope, beside = line
        angle += math.degrees(math.atan(slope))
    return angle, beside


def _sample_strip(
    response: np.ndarray, center: tuple[float, float], angle: float, along: np.ndarray, across: np.ndarray
) -> np.ndarray:
    """response along the ray at `angle` (rows) and across it (columns, positive clockwise)."""
    theta = math.radians(angle)
    along_x, along_y = math.sin(theta), -math.cos(theta)
    across_x, across_y = math.cos(theta), math.sin(theta)
    map_x = center[0] + along[:, None] * along_x + across[None, :] * across_x
    map_y = center[1] + along[:, None] * along_y + across[None, :] * across_y
    return cv2.remap(
        response,
        map_x.astype(np.float32),
        map_y.astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def _robust_line(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float] | None:
    """Slope and intercept of the least-squares line, refitted once without points far off it."""
    keep = np.ones(xs.size, dtype=bool)
    for _ in range(2):
        if keep.sum() < 5:
            return None
        slope, intercept = np.polyfit(xs[keep], ys[keep], 1)
        residuals = np.abs(ys - (slope * xs + intercept))
        limit = max(0.75, 2.5 * float(np.median(residuals[keep])))
        keep = residuals <= limit
    return float(slope), float(intercept)


def _confidence(profile: np.ndarray, angle: float, contrast: float, axes: list[tuple[float, float]]) -> float:
    """High when one clear needle stands out and a straight line through the centre backs it."""
    median = float(np.median(profile))
    offsets = (np.arange(profile.size) - angle + 180) % 360 - 180
    rival = float(profile[np.abs(offsets) > 15].max(initial=median)) - median
    separation = 1.0 - max(0.0, rival) / contrast
    backed = any(abs((angle - axis + 90) % 180 - 90) < 3 for axis, _ in axes)
    strength = min(1.0, contrast / 60.0)
    return float(np.clip(separation * (0.6 + 0.4 * strength) * (1.0 if backed else 0.7), 0.0, 1.0))


def calibrate_from_readings(
    first: tuple[Any, float],
    second: tuple[Any, float],
    *,
    min_value: float,
    max_value: float,
    unit: str = "",
    direction: str = "cw",
    keep_geometry: bool = True,
) -> dict[str, Any]:
    """The calibration from two images (or one image twice) showing known values.

    Each argument is `(image, value_shown)`. The needle angle is measured on each and the
    scale is extended linearly to `min_value` and `max_value`. Two values far apart give
    the best calibration. With `keep_geometry` the dial centre and radius found on the
    first image are saved too, which makes every later read faster and steadier for a
    camera that does not move.
    """
    (image_a, value_a), (image_b, value_b) = first, second
    if value_a == value_b:
        raise CalibrationError("readings: the two known values must differ")
    dial_a, angle_a = measure_dial(image_a)
    _, angle_b = measure_dial(image_b, center=dial_a.center, radius=dial_a.radius)
    sign = 1.0 if direction == "cw" else -1.0
    # Degrees the needle travels, in `direction`, from the lower known value to the higher.
    low_angle, high_angle = (angle_a, angle_b) if value_a < value_b else (angle_b, angle_a)
    travel = (sign * (high_angle - low_angle)) % 360
    if travel == 0:
        raise CalibrationError("readings: the needle points the same way in both images")
    degrees_per_unit = travel / abs(value_b - value_a)
    sweep = degrees_per_unit * (max_value - min_value)
    if not 0 < sweep <= 360 + 1e-6:
        raise CalibrationError(
            "readings: the scale would not fit in one turn; check min_value, max_value and the direction"
        )
    min_angle = (angle_a + sign * degrees_per_unit * (min_value - value_a)) % 360
    max_angle = min_angle + sign * min(sweep, 360.0)
    return calibration_from_angles(
        min_angle,
        max_angle,
        min_value=min_value,
        max_value=max_value,
        unit=unit,
        direction=direction,
        center=dial_a.center if keep_geometry else None,
        radius=dial_a.radius if keep_geometry else None,
    )
