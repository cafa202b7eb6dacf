"""Find a dial's pointer by its mass, whatever its shape: thin line, tapered, fat drop, arrow.

A filled pointer has no long straight edges for a line detector, but it is always one
blob that stands out from the face (darker, lighter or redder) and is joined to the hub
at the dial centre; printed digits and ticks stand apart from it. So:

1. The dial is resampled to a small square (radius MASS_RADIUS pixels) around the centre.
2. For each cue (redness, darkness, lightness) Otsu's threshold inside the dial splits
   pointer-like pixels from the face, and the blob(s) that touch the hub are kept.
3. The tip is the far end of that blob: the pixels beyond TIP_SHARE of its reach,
   weighted by radius, around the strongest direction. A tail stops short of the tip,
   so it never enters this set; digits the pointer runs over join the blob but sit
   beside the tip and weigh little. Rays on which the blob reaches out over a broad arc
   are left out: a rotor's counterweight (a half disc or a box behind the hub) can reach
   as far as its slim point, but the point is a spike.
4. The tip is seen from the pointer's own pivot (the centroid of its part near the
   centre, which lies on its axis wherever the centre was guessed), and the pointer is
   placed on its axis of mirror symmetry through that pivot. A blob that is not
   mirror-symmetric has print, a shadow or a reflection merged into it: no confidence.
5. The centre is moved a little across the pointer, both ways, and the winning cue looked
   at again: a real pointer, seen from its own pivot, stays put; a blob whose tip jumps
   (equal arms of a rotor, a digit or the rim winning or losing) loses its confidence.

The cue whose blob is most pointer-like (long, narrow in angle, contrasted) wins; a red
blob is preferred when it is nearly as good, since faces and digits are seldom red.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

MASS_RADIUS = 64  # pixels: the dial's radius in the resampled square
HUB_SHARE = 0.15  # the hub: a blob touching this share of the radius belongs to the pointer
TIP_SHARE = 0.9  # pixels beyond this share of the blob's reach make the tip
PIVOT_SHARE = 0.4  # the pointer's part within this share of the radius holds its pivot
MIN_REACH = 0.3  # a pointer reaches at least this share of the dial radius
MIN_CUE_CONTRAST = 25.0  # levels between the face and the pointer-like end of a cue
SLIM_AREA = 0.2  # share of the dial a pointer's blob covers at most, without doubt
MAX_AREA = 0.5  # and with no confidence left
AXIS_DISAGREEMENT = 20.0  # degrees between the tip's direction and the pointer's axis: not one straight pointer
AXIS_DOUBT = 30.0  # degrees between the axis and the tip seen from the pivot at which no confidence is left
MIRROR_AGREEMENT = 3.0  # degrees: the axis of mirror symmetry this near the tip's direction places the pointer
SYMMETRIC = 0.95  # share of a pointer's blob that its mirror image about its axis covers, without doubt
ASYMMETRIC = 0.85  # and with no confidence left
THIN_MARK = 7  # pixels (a tenth of MASS_RADIUS): strokes thinner than this are print, not pointer
FREED_REACH = 0.5  # an opened blob reaching this far (dial radii) is a pointer on its own
PRINT_INNER = 0.5  # dial radii: a meter's digits and ticks are printed outside this
RAY_STEP = 3  # degrees: the blob's reach is taken ray by ray, on rays this wide
RAYS = 360 // RAY_STEP
# Each ray's neighbours within ±60°, by index.
_RAYS_AROUND = (np.arange(-20, 21)[None, :] + np.arange(RAYS)[:, None]) % RAYS
PLATEAU = 0.8  # a ray is on a broad arc when most rays within ±60° reach this share as far
COUNTERWEIGHT_APART = 60.0  # degrees between a rotor's point and where its counterweight reaches farthest
SLIM_POINT_LENGTH = 0.3  # dial radii: a stroke cut away this long from within PRINT_INNER is a slim point
RED_PREFERENCE = 0.6  # a red blob this good compared with the best wins
JITTER = 0.05  # dial radii: the centre is moved this far each way to see whether the pointer stays put
STEADY = 4.0  # degrees: the pointer found from every moved centre within this of the first, without doubt
UNSTEADY = 12.0  # degrees: and at this, no confidence left


@dataclass(frozen=True)
class PointerEstimate:
    angle: float  # degrees clockwise from 12 o'clock
    confidence: float  # 0..1
    cue: str  # "red", "dark" or "light"
    reach: float  # the tip's distance from the centre, in dial radii
    tip: tuple[float, float]  # the tip, in pixels of the image given
    factors: dict[str, float] = field(default_factory=dict, compare=False)  # what the confidence is made of


@lru_cache(maxsize=2)
def _geometry(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Distance from the centre (in dial radii) and angle (degrees, clockwise from 12) of each pixel."""
    coordinates = np.arange(side, dtype=np.float32) - (side - 1) / 2
    dx, dy = coordinates[None, :], coordinates[:, None]
    distance = np.hypot(dx, dy) / MASS_RADIUS
    angle = np.degrees(np.arctan2(dx, -dy)) % 360
    return distance.astype(np.float32), angle.astype(np.float32)


def _resample(image: np.ndarray, center: tuple[float, float], radius: float) -> np.ndarray:
    """The dial as a square of side 2·MASS_RADIUS+1 centred on `center`."""
    scale = MASS_RADIUS / radius
    if scale < 0.7:  # shrinking: smooth first, as INTER_AREA would
        sigma = 0.4 / scale
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    side = 2 * MASS_RADIUS + 1
    matrix = np.array(
        [[scale, 0, MASS_RADIUS - scale * center[0]], [0, scale, MASS_RADIUS - scale * center[1]]], np.float32
    )
    return cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _cues(square: np.ndarray) -> dict[str, np.ndarray]:
    pixels = square.astype(np.float32)
    if pixels.ndim == 2:
        return {"dark": 255 - pixels, "light": pixels}
    blue, green, red = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    grey = 0.299 * red + 0.587 * green + 0.114 * blue
    return {"red": np.clip(red - np.maximum(green, blue), 0, None), "dark": 255 - grey, "light": grey}


def find_pointer(image: np.ndarray, center: tuple[float, float], radius: float) -> PointerEstimate | None:
    """The pointer's direction by its mass, or None when no cue shows a blob reaching out from the hub."""
    estimates = _estimates(image, center, radius, cues=None)
    if not estimates:
        return None
    best_score, best = max(estimates, key=lambda item: item[0])
    red = [item for item in estimates if item[1].cue == "red"]
    if red and red[0][0] >= RED_PREFERENCE * best_score:
        best_score, best = red[0]
    rivals = [score for score, estimate in estimates if degrees_apart(estimate.angle, best.angle) > 10]
    if rivals and max(rivals) > 0.8 * best_score:
        best = PointerEstimate(best.angle, best.confidence * 0.6, best.cue, best.reach, best.tip, best.factors)
    wander = _wander(image, center, radius, best)
    steady = min(1.0, max(0.0, (UNSTEADY - wander) / (UNSTEADY - STEADY)))
    factors = {**best.factors, "wander": wander}
    best = PointerEstimate(best.angle, best.confidence * steady, best.cue, best.reach, best.tip, factors)
    scale = radius / MASS_RADIUS
    tip = (center[0] + (best.tip[0] - MASS_RADIUS) * scale, center[1] + (best.tip[1] - MASS_RADIUS) * scale)
    return PointerEstimate(best.angle, best.confidence, best.cue, best.reach, tip, best.factors)


def _estimates(
    image: np.ndarray, center: tuple[float, float], radius: float, cues: tuple[str, ...] | None, refine: bool = True
) -> list[tuple[float, PointerEstimate]]:
    """Each cue's (or the given cues') pointer-like blob, with how pointer-like it is; without
    `refine`, the tip is not placed on the axis of mirror symmetry (quicker, a little rougher)."""
    square = cv2.GaussianBlur(_resample(image, center, radius), (3, 3), 0)
    distance, angle = _geometry(square.shape[0])
    dial, hub = distance < 0.95, distance < HUB_SHARE
    estimates: list[tuple[float, PointerEstimate]] = []
    for cue, level in _cues(square).items():
        if cues is not None and cue not in cues:
            continue
        estimate = _blob_estimate(cue, level, dial, hub, distance, angle, refine)
        if estimate is not None:
            estimates.append(estimate)
    return estimates


def _wander(image: np.ndarray, center: tuple[float, float], radius: float, found: PointerEstimate) -> float:
    """How far (degrees) the pointer moves when the centre is moved a little each way.

    The centre is a guess, and moving it by a few hundredths of the radius must not move
    a real pointer, which is placed from its own pivot: the same blob is found, with the
    same tip. When it does move, the blob is not one pointer (a digit, the rim or a shadow
    wins or loses depending on where the hub is taken to be), whatever its shape says.
    A move along the pointer changes little, so the centre is moved across it, both ways;
    only the winning cue is looked at again and its tip is not refined, which keeps this
    cheap (the tip before refinement is compared with the tip before refinement).
    """
    theta = math.radians(found.angle)
    across = (JITTER * radius * math.cos(theta), JITTER * radius * math.sin(theta))
    wander = 0.0
    for sign in (1.0, -1.0):
        moved_center = (center[0] + sign * across[0], center[1] + sign * across[1])
        moved = _estimates(image, moved_center, radius, cues=(found.cue,), refine=False)
        if not moved:
            return 180.0
        wander = max(wander, degrees_apart(moved[0][1].factors["rough_angle"], found.factors["rough_angle"]))
    return wander


def degrees_apart(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def _blob_estimate(
    cue: str,
    level: np.ndarray,
    dial: np.ndarray,
    hub: np.ndarray,
    distance: np.ndarray,
    angle: np.ndarray,
    refine: bool = True,
) -> tuple[float, PointerEstimate] | None:
    inside = level[dial]
    face, high = np.percentile(inside, (50, 99))
    contrast = float(high - face)
    if contrast < MIN_CUE_CONTRAST:
        return None
    threshold, _ = cv2.threshold(np.clip(inside, 0, 255).astype(np.uint8), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = ((level > threshold) & dial).astype(np.uint8)
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    touching = np.unique(labels[hub & (mask > 0)])
    touching = touching[touching > 0]
    if touching.size == 0:
        return None
    blob = np.isin(labels, touching)
    whole = blob
    blob = _without_thin_marks(blob, hub, distance, angle)
    # Print the pointer ran over, taken off its outer half: the more there was, the less
    # sure the tip is where the pointer ends rather than where a digit does.
    outer = distance > 0.5 * float(np.percentile(distance[blob], 98))
    print_share = float((whole & ~blob & outer).sum() / max(1, int((blob & outer).sum())))
    area = float(blob.sum() / dial.sum())
    if area > 0.5:
        return None  # the face itself, or a shadow over half of it: not a pointer
    radii, angles = distance[blob], angle[blob]
    reach = float(np.percentile(radii, 98))
    if reach < MIN_REACH:
        return None
    spiky, spike_reach = _off_broad_arcs(radii, angles)
    tip_angle, spread = _direction(radii[spiky], angles[spiky], spike_reach * TIP_SHARE)
    body_angle, _ = _direction(radii, angles, reach * 0.55)
    axis = _axis(radii, angles, reach, tip_angle)
    # The tip's direction is seen from the centre, which may be a little off the pivot; the
    # pointer's own axis is not. Halfway between the two errs least; far apart, neither is sure.
    axis_gap = degrees_apart(axis, tip_angle) if axis is not None else AXIS_DISAGREEMENT
    if axis is not None and axis_gap < AXIS_DISAGREEMENT:
        tip_angle = (axis + ((tip_angle - axis + 180) % 360 - 180) / 2) % 360
    seen_from_pivot = _seen_from_pivot(radii, angles, tip_angle)
    # The tip's direction and the direction of the blob's outer half agree on a straight,
    # symmetric pointer; a digit or a shadow merged into the blob pulls them apart.
    agreement = max(0.0, 1.0 - degrees_apart(tip_angle, body_angle) / 20.0)
    concentration = _concentration(radii, angles, reach * 0.55, body_angle)
    score = concentration * min(1.0, reach / 0.6) * min(1.0, contrast / 60.0)
    # A pointer covers a small part of the face; a blob over a large share of it has
    # swallowed a coloured ring, a shadow or a reflection.
    slim = min(1.0, max(0.0, (MAX_AREA - area) / (MAX_AREA - SLIM_AREA)))
    symmetry = 1.0
    rough_angle = tip_angle
    if seen_from_pivot is not None:
        from_pivot, pivot = seen_from_pivot
        if axis is not None:
            # Both are the pointer's own, whatever the centre: a straight pointer has them agree.
            axis_gap = degrees_apart(axis, from_pivot)
        rough_angle = tip_angle = from_pivot
        if refine:
            mirrored, symmetry = _mirror_axis(blob, pivot, from_pivot, reach)
            # The axis a pointer is mirror-symmetric about uses every pixel of it, not its tip
            # alone; where the two nearly agree it places the pointer more finely.
            if degrees_apart(mirrored, from_pivot) < MIRROR_AGREEMENT:
                tip_angle = mirrored
    straight = max(0.0, 1.0 - axis_gap / AXIS_DOUBT) * max(0.0, 1.0 - print_share)
    # A pointer is mirror-symmetric about its axis; a digit, a shadow or a reflection merged
    # into its blob is not, and drags the tip and the axis aside.
    symmetric = min(1.0, max(0.0, (symmetry - ASYMMETRIC) / (SYMMETRIC - ASYMMETRIC)))
    confidence = score * (0.5 + 0.5 * agreement) * (1.0 - spread) * slim * straight * symmetric
    confidence = float(np.clip(confidence, 0.0, 1.0))
    theta = math.radians(tip_angle)
    tip = (MASS_RADIUS + reach * MASS_RADIUS * math.sin(theta), MASS_RADIUS - reach * MASS_RADIUS * math.cos(theta))
    factors = {
        "score": score,
        "concentration": concentration,
        "contrast": contrast,
        "reach": reach,
        "agreement": agreement,
        "spread": spread,
        "slim": slim,
        "axis_gap": axis_gap,
        "print_share": print_share,
        "symmetry": symmetry,
        "area": area,
        "rough_angle": rough_angle,
    }
    return score, PointerEstimate(tip_angle, confidence, cue, reach, tip, factors)


def _without_thin_marks(blob: np.ndarray, hub: np.ndarray, distance: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """The blob without printed digits and ticks the pointer runs over.

    A digit touching a dark pointer's tip joins its blob and drags the tip aside; its
    strokes are thinner than a pointer's body, so an opening removes them. A thin line
    pointer goes with them, so the opened blob is kept only if it still reaches out.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (THIN_MARK, THIN_MARK))
    opened = cv2.morphologyEx(blob.astype(np.uint8), cv2.MORPH_OPEN, kernel)
    _, labels = cv2.connectedComponents(opened, connectivity=8)
    touching = np.unique(labels[hub & (opened > 0)])
    touching = touching[touching > 0]
    if touching.size == 0:
        return blob
    kept = np.isin(labels, touching)
    if _cut_a_slim_pointer(blob & ~kept, kept, distance, angle):
        return blob
    reach = np.percentile(distance[kept], 98)
    # Opened away to the hub: a thin line pointer. Much shorter, but still long: a pointer
    # freed from the ring of ticks or the rim its tip touched.
    if reach < 0.85 * np.percentile(distance[blob], 98) and reach < FREED_REACH:
        return blob
    return kept


def _cut_a_slim_pointer(removed: np.ndarray, kept: np.ndarray, distance: np.ndarray, angle: np.ndarray) -> bool:
    """Whether the opening cut away a slim pointer whose wide counterweight it kept.

    Print lies out by the scale, so a long removed stroke that starts near the hub is no
    print. Where what was kept reaches farthest along that stroke, it is the slim end of a
    tapered pointer, and the pointer is kept; where it reaches farthest elsewhere, the
    stroke is the point of a rotor and what was kept its counterweight.
    """
    farthest = np.unravel_index(int(np.argmax(np.where(kept, distance, 0))), kept.shape)
    kept_reach, kept_angle = float(distance[farthest]), float(angle[farthest])
    count, labels = cv2.connectedComponents(removed.astype(np.uint8), connectivity=8)
    for label in range(1, count):
        stroke = labels == label
        radii = distance[stroke]
        inner, outer = float(radii.min()), float(radii.max())
        if inner >= PRINT_INNER or outer < kept_reach + 0.05 or outer - inner < SLIM_POINT_LENGTH:
            continue
        tip_angle = float(angle[stroke][np.argmax(radii)])
        if degrees_apart(tip_angle, kept_angle) > COUNTERWEIGHT_APART:
            return True
    return False


def _seen_from_pivot(
    radii: np.ndarray, angles: np.ndarray, tip_angle: float
) -> tuple[float, tuple[float, float]] | None:
    """The tip's direction seen from the pointer's own pivot rather than from the dial's centre.

    A photo cut down to a dial is seldom centred on its pivot, and a few pixels off turn
    the tip's direction by degrees. The pointer is symmetric about its axis, so the
    centroid of its part near the centre (the hub, the drop's round body, the root of a
    needle and its tail) lies on that axis wherever the centre was guessed; the tip is
    the blob's far end seen from there, near the direction found from the centre.
    """
    theta = np.radians(angles)
    xs, ys = radii * np.sin(theta), -radii * np.cos(theta)
    near = radii < PIVOT_SHARE
    if near.sum() < 5:
        return None
    pivot = (float(xs[near].mean()), float(ys[near].mean()))
    from_x, from_y = xs - pivot[0], ys - pivot[1]
    distances = np.hypot(from_x, from_y)
    directions = np.degrees(np.arctan2(from_x, -from_y)) % 360
    reach = float(np.percentile(distances, 98))
    far = (distances > TIP_SHARE * reach) & (np.abs((directions - tip_angle + 180) % 360 - 180) < 35)
    if far.sum() < 3:
        return None
    weights = distances[far]
    tip_x, tip_y = float((from_x[far] * weights).sum()), float((from_y[far] * weights).sum())
    return math.degrees(math.atan2(tip_x, -tip_y)) % 360, pivot


def _mirror_axis(blob: np.ndarray, pivot: tuple[float, float], direction: float, reach: float) -> tuple[float, float]:
    """The pointer's axis of mirror symmetry through its pivot, within 10° of `direction`, and how
    symmetric the blob is about it (1: its mirror image covers it exactly).

    The blob is unwrapped around the pivot; each candidate axis is scored by how much of the
    blob on one side meets the blob on the other, ring by ring, out to 60° either side.
    """
    step = 0.5  # degrees
    count = int(360 / step)
    theta = np.radians(np.arange(count) * step)
    radii = np.linspace(0.12, reach, 24, dtype=np.float32) * MASS_RADIUS
    map_x = (MASS_RADIUS + pivot[0] * MASS_RADIUS + np.sin(theta)[:, None] * radii[None, :]).astype(np.float32)
    map_y = (MASS_RADIUS + pivot[1] * MASS_RADIUS - np.cos(theta)[:, None] * radii[None, :]).astype(np.float32)
    polar = cv2.remap(
        blob.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    polar *= radii[None, :]  # each ring by its length
    centre = int(round(direction / step))
    candidates = centre + np.arange(-20, 21)  # ±10°
    side = np.arange(1, 120)  # ±60° either side of the axis
    left = polar[(candidates[:, None] + side[None, :]) % count]
    right = polar[(candidates[:, None] - side[None, :]) % count]
    matched = (left * right).sum(axis=(1, 2))
    total = 0.5 * ((left**2).sum(axis=(1, 2)) + (right**2).sum(axis=(1, 2)))
    best = int(np.argmax(matched))
    offset = 0.0
    if 0 < best < len(candidates) - 1:
        below, at, above = matched[best - 1 : best + 2]
        curvature = below - 2 * at + above
        if curvature < 0:
            offset = 0.5 * (below - above) / curvature
    return float((candidates[best] + offset) * step) % 360, float(matched[best] / max(total[best], 1e-6))


def _axis(radii: np.ndarray, angles: np.ndarray, reach: float, tip_angle: float) -> float | None:
    """The direction of the principal axis of the pointer's outer part, pointing to its tip."""
    offsets = (angles - tip_angle + 180) % 360 - 180
    outer = (radii > 0.3 * reach) & (np.abs(offsets) < 45)
    if outer.sum() < 6:
        return None
    theta = np.radians(angles[outer])
    xs, ys = radii[outer] * np.sin(theta), -radii[outer] * np.cos(theta)
    _, _, axes = np.linalg.svd(np.stack([xs - xs.mean(), ys - ys.mean()], axis=1), full_matrices=False)
    dx, dy = axes[0]
    tip = math.radians(tip_angle)
    if dx * math.sin(tip) - dy * math.cos(tip) < 0:
        dx, dy = -dx, -dy
    return math.degrees(math.atan2(dx, -dy)) % 360


def _off_broad_arcs(radii: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, float]:
    """Which of the blob's pixels lie on rays where it does not reach out over a broad arc,
    and how far it reaches on those rays (dial radii).

    A pointer's tip is a spike in the blob's reach, ray by ray; a counterweight (a wide
    half disc or a box behind the hub) can reach as far as the tip, but over a broad arc,
    where most rays within ±60° reach nearly as far. On a plain disc every ray is on one.
    """
    bins = (angles // RAY_STEP).astype(np.int64) % RAYS
    reach = np.zeros(RAYS, np.float32)
    np.maximum.at(reach, bins, radii)
    broad = np.median(reach[_RAYS_AROUND], axis=1) >= PLATEAU * reach
    if broad.all():
        return np.ones(radii.shape, bool), float(reach.max())
    return ~broad[bins], float(reach[~broad].max())


def _direction(radii: np.ndarray, angles: np.ndarray, beyond: float) -> tuple[float, float]:
    """The radius-weighted mean direction of the pixels beyond `beyond`, around their strongest
    5° bin; and the share of their weight more than 35° from it (0 for one compact tip)."""
    far = radii > beyond
    far_radii, far_angles = radii[far], angles[far]
    histogram = np.bincount((far_angles // 5).astype(np.int64) % 72, weights=far_radii, minlength=72)
    smooth = sum(np.roll(histogram, shift) for shift in (-2, -1, 0, 1, 2))
    peak = float(np.argmax(smooth)) * 5 + 2.5
    offsets = (far_angles - peak + 180) % 360 - 180
    near = np.abs(offsets) < 35
    weights = far_radii[near]
    direction = (peak + float(np.average(offsets[near], weights=weights))) % 360
    spread = 1.0 - float(weights.sum() / far_radii.sum())
    return direction, spread


def _concentration(radii: np.ndarray, angles: np.ndarray, beyond: float, direction: float) -> float:
    """Share of the blob's outer weight within 35° of its direction: 1 for a pointer, low for a ring."""
    far = radii > beyond
    offsets = (angles[far] - direction + 180) % 360 - 180
    return float(radii[far][np.abs(offsets) < 35].sum() / max(radii[far].sum(), 1e-6))
