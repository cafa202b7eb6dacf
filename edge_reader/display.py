"""Read a seven-segment display (dark digits on an LCD, or lit digits on an LED panel).

1. Brightness is the largest of the three colour channels, so red, green and blue LEDs
   and grey-green LCDs all give strong contrast. Big frames are halved until they are
   about 700 pixels across; the panel is later cut from the level that keeps it sharp.
2. Panel: nearly rectangular, landscape regions (closed edges in any colour channel,
   Otsu regions) are the candidates, tried from the most contrasted; the whole frame
   (or the calibration's ROI) is the last one. Each is rectified by its corners, which
   undoes small rotation and perspective. A candidate that cuts through the digit row
   is a piece of the panel: the best such piece is read again grown out along its own
   sides (by a digit and a half past the cut, and a little all round if the digits
   touch its edges), and kept when it reads the piece's digits and more.
3. Strokes: a black-hat (LCD, as a ratio to the panel's level) or a top-hat (LED) with
   a window wider than any stroke keeps the segments and drops uneven light and broad
   glare; each pixel is scaled by the strongest stroke nearby. Which polarity comes
   first is judged from the middle of the panel; the other is tried only when the
   first reads poorly, since it sees the gaps between strokes as shapes.
4. Row: the horizontal segments level the row if the corners were a little off; the
   digit row is the band of rows holding most ink; italic digits are sheared upright
   by the lean of their steep stroke edges.
5. Digits: runs of inked columns above the baseline are digit cells (a narrow one is a
   1, which sits at the right of its cell), a short one in the middle is a minus sign,
   and a small blob on the baseline in the gap after a digit is its decimal point.
   Of several points (an LCD shows its unlit ones faintly) the clearly strongest is lit.
   Each segment's stroke strength is compared with the display's lit strokes; the
   seven on/off states must spell a digit (or miss one digit by a single doubtful
   segment, and every other by more), and an unlit cell is a blank position.

Confidence falls with the least clear segment decision, with ink off the expected
segments, with a candidate that cuts through the row or hugs the digits, and for a
lone digit; it rises when another candidate (another crop, scale or straightening)
reads the same complete number. A pattern that spells no digit is an error, never a guess.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import Any

import cv2
import numpy as np

from edge_reader import digit_cells
from edge_reader.calibration import is_finite_number
from edge_reader.images import ImageLike, load_image
from edge_reader.result import ReadError, Reading

WORK_SIDE = 700  # longest side of the image the panel is searched in, at most
PANEL_HEIGHT = 160  # a candidate panel is rectified to this height, pixels
MAX_PANEL_WIDTH = 1100
MAX_CANDIDATES = 8
ROW_CANDIDATES = 3  # boxes round rows of digit-sized marks, tried when no panel reads
DARK_MARK_PERCENT = 25  # a dark mark is this much darker than the level around it, percent
ROW_GAP = 1.5  # digit heights between neighbouring marks of a row, at most
ROW_PADDING = (0.6, 0.15)  # digit heights a row's box reaches past it, beside and above and below
CONFIDENT_ELSEWHERE = 0.75  # a reading this good outweighs a pattern no digit makes in another candidate
SURE_OF_POLARITY = 0.5  # a reading this confident settles whether digits are dark or light
GOOD_ENOUGH = 0.93  # a reading this confident ends the search
COLOURED_POINT_SHARE = 0.5  # the darkest channel's reading with a point, this sure relative to one without, adds it
MIN_CONFIDENCE = 0.45  # below this the best candidate is not taken for a display
CUT_SHORT_PENALTY = 0.9  # the confidence of a reading from a candidate the frame cuts short
CUT_SHORT_PREFERENCE = 0.25  # and how much a panel seen whole is preferred to it
FRAME_EDGE_PENALTY = 0.5  # a candidate cut off by the frame ranks after whole ones
WHOLE_FRAME_PENALTY = 0.85  # the whole frame read as the panel: small digits, and clutter around them
RIVAL_SHARE = 0.5  # a reading elsewhere this sure, relative to the best, makes the best doubtful
RIVAL_PENALTY = 0.7  # and costs it this share of its confidence
CONTRADICTION_SHARE = 0.4  # another view of the same place reading another number this sure, relative to the best
CONTRADICTION_PENALTY = 0.7  # and costs it this share of its confidence
MOVED_POINT_PENALTY = 0.5  # and one reading the same digits with the point elsewhere, this share
SAME_PLACE = 0.5  # two views whose quads overlap this much look at the same place
PIECE_SHARE = 0.4  # a longer reading around the best, this sure relative to it, makes it a piece
TRAILING_SHARE = 0.4  # a reading of more digits after the best's, this sure relative to it, is taken
PIECE_PENALTY = 0.6  # the confidence of a reading within a candidate that reads more digits
MIN_DIGIT_HEIGHT = 12  # pixels at panel scale
MIN_STROKE_CONTRAST = 45.0  # grey levels a lit stroke rises, or 255ths a dark one falls below the panel
NEARBY_FLOOR = 0.65  # strokes are scaled by the strongest nearby, or by this share of the strongest
SPLIT_RANGE = (0.25, 0.65)  # where the split between lit and unlit segments may fall, of the lit level
MIN_SPLIT_GAP = 0.15  # a gap this wide between segment strengths is a split
EDGE_MARK_PENALTY = 0.75  # a mark at the end of the row that spells no digit, skipped
LOST_DIGIT_PENALTY = 0.5  # and, after the last digit, one that stands where the next digit would
NEXT_PLACE_GAP = 0.6  # as far from the digit before it as this share of the usual gap between digits
FRAME_MARK_PENALTY = 0.9  # a bar at the end of the row (the panel's frame), skipped
SOLID_FRAME = 0.7  # share of a mark's box inked that makes it a solid bar: no digit fills its box so
PHOTO_CUT_PENALTY = 0.6  # the confidence of a reading whose next digit the photo's edge cuts off
CUT_DIGIT_SLIVER = 0.15  # pitches of a digit cut off that still show as ink: a stroke, 0.12 of a digit height
CUT_ROW_PENALTY = 0.7  # a candidate whose side cuts through marks of the digit row's height
NO_MARGIN_PENALTY = 0.9  # digits up against the candidate's edge
ROW_GROWTH = 1.5  # digit heights a candidate that cuts the row is grown by on that side, to read it whole
MARGIN_GROWTH = 0.15  # panel heights it is grown by on each other side when its digits also touch its edges
LONE_DIGIT_CAP = 0.45  # the confidence a reading of one digit reaches at most
PAIR_PENALTY = 0.65  # the confidence of a reading of two digits
TALL_BAND = 0.8  # a digit band taller than this share of the panel holds more than digits
BAND_SHARE = 0.1  # rows with this share of the fullest row's ink belong to the digit row (specks do not)
MAX_REPAIRED_MISS = 0.6  # a pattern no digit lights is read as the nearest digit only this close to it
MIN_REPAIR_LEAD = 0.3  # and only this much closer than to any other digit
REPAIRED_MARGIN = 0.5  # the most a repaired digit counts as clear
REPAIR_PENALTY = 0.8  # and the confidence of a reading with one
UNLIT_POINT_LEAD = 1.25  # the lit decimal point is this much stronger than the faint unlit ones
POINT_CHOICE_PENALTY = 0.9  # the confidence of a reading whose lit point was told from unlit ones
SURE_CELL = 0.95  # the learned judge's probability that reads a cell whose segments spell nothing
LEARNED_ONLY_PENALTY = 0.85  # and the confidence of a reading with such a digit
DOUBTING_CELL = 0.8  # the learned judge this sure of another answer than the segments' doubts the reading
DISAGREEMENT_PENALTY = 0.75  # by this much
OFF_PITCH_END_PENALTY = 0.6  # and of one whose last digit, off the row's pitch, the learned judge reads otherwise
AGREED = 0.9  # the learned judge this sure of each digit the segments spell confirms the reading
AGREEMENT_BONUS = 1.3  # and raises its confidence by this much
SECOND_VIEW_SHARE = 0.5  # another candidate reading the same number this sure, relative to the best, backs it
SECOND_VIEW_WEIGHT = 0.5  # and closes this share of the best's doubt times its own confidence
GAP_MARK = 0.3  # stroke strength at the foot of a gap between digits that may be a missed point
UNSEEN_POINT_PENALTY = 0.5  # the confidence of a reading without a point when a gap has such a mark
STRAY_WIDTH = 0.7  # a mark off the grid at the row's end narrower than this share of a digit is no digit
PITCH_SLACK = 0.12  # a digit's right edge lies this share of the pitch from its place on the grid, at most
OFF_CENTRE_COST = 5.0  # a bar triple's score falls by this times its middle bar's distance from halfway, in spans
BAR_REACH = 0.06  # a bar reaches this share of the digit height from its middle row, at most
JOINED_ROWS = 0.25  # each row between a digit's bars holds this share of the usual ink at least
MIN_LIT_LEVEL = 0.65  # stroke strength along a lit segment: solid strokes are near 1, speckle far less

SEGMENT_NAMES = "abcdefg"  # a top, b top right, c bottom right, d bottom, e bottom left, f top left, g middle
DIGIT_OF_SEGMENTS: dict[frozenset[str], str] = {
    frozenset(segments): digit
    for segments, digit in (
        ("abcdef", "0"),
        ("bc", "1"),
        ("abdeg", "2"),
        ("abcdg", "3"),
        ("bcfg", "4"),
        ("acdfg", "5"),
        ("acdefg", "6"),
        ("cdefg", "6"),
        ("abc", "7"),
        ("abcf", "7"),
        ("abcdefg", "8"),
        ("abcdfg", "9"),
        ("abcfg", "9"),
        ("g", "-"),
    )
}


@dataclass(frozen=True)
class DisplayOptions:
    roi: tuple[int, int, int, int] | None = None
    digits: int | None = None
    decimals: int | None = None

    @classmethod
    def from_calibration(cls, calibration: dict[str, Any]) -> DisplayOptions:
        if not isinstance(calibration, dict):
            raise ReadError("calibration: must be a JSON object")
        kind = calibration.get("kind", "seven_segment")
        if kind != "seven_segment":
            raise ReadError(f"kind: the display reader reads 'seven_segment', got {kind!r}")
        roi = calibration.get("roi")
        if roi is not None:
            if not (isinstance(roi, (list, tuple)) and len(roi) == 4 and all(is_finite_number(v) for v in roi)):
                raise ReadError("roi: must be [x, y, w, h] or null")
            x, y, w, h = (int(round(v)) for v in roi)
            if w < 16 or h < 8 or x < 0 or y < 0:
                raise ReadError("roi: must lie in the image and be at least 16x8 pixels")
            roi = (x, y, w, h)
        return cls(roi, _count(calibration, "digits", 1), _count(calibration, "decimals", 0))


def _count(calibration: dict[str, Any], key: str, smallest: int) -> int | None:
    value = calibration.get(key)
    if value is None:
        return None
    if not (is_finite_number(value) and float(value).is_integer() and smallest <= value <= 16):
        raise ReadError(f"{key}: must be a whole number from {smallest} to 16, or null")
    return int(value)


Points = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class DigitMark:
    text: str
    segments: str  # the lit ones, of SEGMENT_NAMES
    corners: Points

    def moved(self, move: Callable[[np.ndarray], np.ndarray]) -> DigitMark:
        corners = move(np.array(self.corners, np.float64).reshape(-1, 2))
        return replace(self, corners=tuple((float(x), float(y)) for x, y in corners))


@dataclass(frozen=True)
class PanelReading:
    text: str
    confidence: float
    cells: int  # digits read
    quad: tuple[tuple[float, float], ...] = ()  # the panel's corners in the image read
    cut_short: bool = False  # the candidate runs off the frame
    # Panel heights to add on each side (left, top, right, bottom) for a candidate that
    # cuts the digit row: the panel goes on past it.
    grow: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    # The learned judge's least sureness of the digits read and of the marks skipped being
    # no digit; 0 if it differs on one.
    agreement: float = 0.0
    # Each character read, the segments seen lit in its cell and the cell's four corners
    # (clockwise from top left), in the pixels of the stage that holds the reading: the
    # row, then the panel, then the image read. What an overlay draws.
    digits: tuple[DigitMark, ...] = ()
    row_goes_on: bool = False  # a mark skipped after the last digit read stands where the next digit would


# The piece a grown candidate was cut from, when the piece read nothing.
NOTHING_READ = PanelReading("", 0.0, 0)


class Implausible(ReadError):
    """Segments were found but do not spell a number."""

    def __init__(self, message: str, cells: int):
        super().__init__(message)
        self.cells = cells
        # As PanelReading.grow: the candidate cut through the digit row, and the digit it
        # cut may be what spells nothing.
        self.grow: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def read_display(image: ImageLike, calibration: dict[str, Any]) -> Reading:
    """Read the number a seven-segment display shows; ReadError when there is none to read."""
    options = DisplayOptions.from_calibration(calibration)
    colour = load_image(image)
    if options.roi:
        colour = _crop(colour, options.roi)
    best = _best_panel_reading(colour, options)
    text = best.text
    left, top = options.roi[:2] if options.roi else (0, 0)
    panel = [(x + left, y + top) for x, y in best.quad]
    digits = [
        {"text": mark.text, "segments": mark.segments, "corners": [(x + left, y + top) for x, y in mark.corners]}
        for mark in best.digits
    ]
    return Reading(
        value=float(text),
        confidence=round(best.confidence, 3),
        details={"text": text},
        geometry={"panel": panel, "digits": digits},
    )


def _panel_to_image(
    digits: tuple[DigitMark, ...], panel_shape: tuple[int, ...], quad: np.ndarray
) -> tuple[DigitMark, ...]:
    """The digits' corners from the straightened panel back to the image (_rectify undone)."""
    height, width = panel_shape[:2]
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    back = cv2.getPerspectiveTransform(target, quad.astype(np.float32))

    def move(points: np.ndarray) -> np.ndarray:
        return cv2.perspectiveTransform(points.reshape(-1, 1, 2), back).reshape(-1, 2)

    return tuple(mark.moved(move) for mark in digits)


def _corners(quad: np.ndarray) -> tuple[tuple[float, float], ...]:
    return tuple((float(x), float(y)) for x, y in quad)


def _crop(image: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = roi
    height, width = image.shape[:2]
    if x + w > width or y + h > height:
        raise ReadError(f"roi: {list(roi)} reaches outside the {width}x{height} image")
    return image[y : y + h, x : x + w]


def _brightness(image: np.ndarray) -> np.ndarray:
    """The largest colour channel: red, green and blue LEDs and grey LCDs all stand out in it."""
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    blue, green, red = cv2.split(image)
    return cv2.max(cv2.max(blue, green), red)


def _darkness(image: np.ndarray) -> np.ndarray:
    """The smallest colour channel, for dark strokes: a dark segment is dark in every
    channel, and a coloured mark on a grey LCD (a pump's red decimal point) in one at
    least, where the largest channel barely sees it."""
    blue, green, red = cv2.split(image)
    return cv2.min(cv2.min(blue, green), red)


def _best_panel_reading(colour: np.ndarray, options: DisplayOptions) -> PanelReading:
    pyramid = _pyramid(_brightness(colour))
    # The darkest channel is made only for a candidate that needs it (_read_panel).
    dark_pyramid = cache(lambda: _pyramid(_darkness(colour)))
    work_level = next(level for level, image in enumerate(pyramid) if max(image.shape) <= WORK_SIDE)
    work = pyramid[work_level]
    work_colour = cv2.resize(colour, (work.shape[1], work.shape[0]), interpolation=cv2.INTER_AREA)
    best: PanelReading | None = None
    implausible: Implausible | None = None
    readings: list[PanelReading] = []
    # Each candidate and, for one grown from a piece of the panel, that piece's reading.
    panels = _panel_candidates(work, work_colour)
    candidates: list[tuple[np.ndarray, PanelReading | None]] = [(quad, None) for quad in panels]
    whole_frame = candidates[-1][0]
    rows_tried = False
    while candidates:
        if candidates[0][0] is whole_frame and not rows_tried:
            rows_tried = True
            if best is None or best.confidence < MIN_CONFIDENCE:
                # No panel's outline held a display: boxes round rows of digit-sized
                # marks, for a panel whose outline the photo lost. Only then: a row's
                # box reads a piece of the row (a digit or the decimals apart from the
                # rest) as readily as the row.
                rows = [quad for quad in _digit_row_candidates(work) if _distinct(quad, panels, work.shape)]
                candidates[:0] = [(quad, None) for quad in rows]
        quad, piece = candidates.pop(0)
        # A candidate, not the whole frame nor one already grown, may be grown past a cut.
        may_grow = piece is None and quad is not whole_frame
        panel = _rectify(pyramid, quad * 2**work_level)
        dark_panel = partial(_rectify_later, dark_pyramid, quad * 2**work_level)
        try:
            reading = _read_panel(panel, dark_panel if colour.ndim == 3 else None, options)
            reading = replace(
                reading,
                quad=_corners(quad * 2**work_level),
                digits=_panel_to_image(reading.digits, panel.shape, quad * 2**work_level),
            )
            if quad is whole_frame:
                if not options.roi:  # with an ROI, the strip given is the panel
                    # The whole photo, at a coarse scale, read as the panel: clutter round
                    # small digits. Like a region the frame cuts short it is no panel seen
                    # whole, and it yields to one that is the panel cut short by the photo:
                    # at the whole frame's scale the digit nearest the edge is lost first.
                    reading = replace(reading, confidence=reading.confidence * WHOLE_FRAME_PENALTY, cut_short=True)
            elif _against_frame_edge(quad, work.shape[1], work.shape[0]):
                # A region the photo cuts short may be a piece of background, or of the
                # panel: it reads at a cut, and a panel seen whole is preferred to it.
                reading = replace(reading, confidence=reading.confidence * CUT_SHORT_PENALTY, cut_short=True)
        except Implausible as error:
            if may_grow and any(error.grow):
                # A candidate cut through the row: the digit it cut may be what spells
                # nothing, which is no sign the display is implausible. Read grown past
                # the cut, next.
                bigger = _grown_quad(quad, panel.shape, error.grow, work.shape)
                if bigger is not None:
                    candidates.insert(0, (bigger, NOTHING_READ))
                    continue
            if best is None and (implausible is None or error.cells > implausible.cells):
                # Only a candidate ranked above any reading can make the display implausible.
                implausible = error
            continue
        except ReadError:
            continue
        if piece is not None and _digits_only(piece.text) not in _digits_only(reading.text):
            continue  # grown past the piece, it reads other digits: not the same row
        readings.append(reading)
        if best is None or _preference(reading) > _preference(best):
            best = reading
        if best.confidence >= GOOD_ENOUGH:
            break
        if may_grow and reading is best and any(reading.grow):
            # The candidate cuts the digit row: it is a piece of the panel, which is read
            # again grown out past the cut, next. (A piece grown only for a margin would
            # read as surely as a whole panel: a clean cut between digits looks like one.)
            bigger = _grown_quad(quad, panel.shape, reading.grow, work.shape)
            if bigger is not None:
                candidates.insert(0, (bigger, reading))
    if best is not None:
        best = _with_trailing_digits(best, readings, _corners(whole_frame * 2**work_level))
    if best is not None and best.agreement >= AGREED:
        # Both judges, the segments and the learned one, read every digit alike. Given to
        # the chosen reading only: ranked by it, a view that misses the point or the sign,
        # whose digits the judge confirms as readily, could win over the whole reading.
        best = replace(best, confidence=min(1.0, best.confidence * AGREEMENT_BONUS))
    if best is not None:
        best = replace(best, confidence=_backed_by_other_views(best, readings))
    if best is not None and _contradicted(best, readings):
        best = replace(best, confidence=best.confidence * CONTRADICTION_PENALTY)
    if best is not None and _point_contradicted(best, readings):
        best = replace(best, confidence=best.confidence * MOVED_POINT_PENALTY)
    if best is not None and _has_rival(best, readings):
        best = replace(best, confidence=best.confidence * RIVAL_PENALTY)
    if best is not None and _piece_of_longer_reading(best, readings):
        best = replace(best, confidence=best.confidence * PIECE_PENALTY)
    if best is not None and not best.row_goes_on and _seen_to_go_on(best, readings):
        best = replace(best, confidence=best.confidence * LOST_DIGIT_PENALTY)
    if best is not None and _row_cut_by_photo(best, colour.shape):
        best = replace(best, confidence=best.confidence * PHOTO_CUT_PENALTY)
    if (
        implausible is not None
        and implausible.cells >= 2
        and (best is None or implausible.cells >= best.cells and best.confidence < CONFIDENT_ELSEWHERE)
    ):
        raise implausible
    if best is None or best.confidence < MIN_CONFIDENCE:
        raise ReadError("no seven-segment display found")
    if best.cells == 2:
        # Two digits make one step: no regular pitch shows them a display's row rather
        # than letters printed by it, or a piece of a longer row. Read, but doubted.
        best = replace(best, confidence=best.confidence * PAIR_PENALTY)
    return best


def _with_trailing_digits(
    best: PanelReading, readings: list[PanelReading], whole_frame: tuple[tuple[float, float], ...]
) -> PanelReading:
    """The reading of the same place that goes on past the best's last digit, if one is sure enough.

    A digit at the end of the row is lost more easily than one is made up: at a coarse
    scale its strokes thin away, a reflection pales it, and a pump sets its last decimal
    further off. A view that reads the best's digits and more after them has seen it.
    """
    longer = [
        other
        for other in readings
        if other.text.startswith(best.text)
        and len(_digits_only(other.text)) > len(_digits_only(best.text)) > 1
        and other.quad != whole_frame
        and other.confidence >= TRAILING_SHARE * best.confidence
        and _same_place(other, best)
    ]
    if not longer:
        return best
    return max(longer, key=lambda other: (len(_digits_only(other.text)), other.confidence))


def _seen_to_go_on(best: PanelReading, readings: list[PanelReading]) -> bool:
    """Whether another view of the same place reads the same number and saw a mark after
    it where the next digit would stand.

    A coarser view (the whole photo) can lose a faint last digit altogether; a finer one
    that saw the mark and could not read it says the number may go on.
    """
    return any(other.row_goes_on and other.text == best.text and _same_place(other, best) for other in readings)


def _row_cut_by_photo(best: PanelReading, shape: tuple[int, ...]) -> bool:
    """Whether the photo's right edge cuts off a digit right after the last digit read.

    The reading cuts the row at its right (marks of the row's height dropped at the
    candidate's side, PanelReading.grow), and no grown view can read past the photo's
    edge. The next digit's place begins one gap between digits after the last digit:
    when the photo's edge lies past that by a stroke or more, and within a pitch, ink
    was cut off there, a digit of the number whose last digits are lost (58.78 read
    as 58.7). Nearer, the edge only grazes the last digit or the frame beside it.
    """
    if best.grow[2] <= 0 or len(best.digits) < 2 or max(x for x, _ in best.quad) < shape[1] - 3:
        return False
    boxes = sorted((min(x for x, _ in mark.corners), max(x for x, _ in mark.corners)) for mark in best.digits)
    pitch = float(np.median([b[0] - a[0] for a, b in zip(boxes, boxes[1:], strict=False)]))
    gap = float(np.median([b[0] - a[1] for a, b in zip(boxes, boxes[1:], strict=False)]))
    beyond = shape[1] - max(right for _, right in boxes)
    return max(gap, 0.0) + CUT_DIGIT_SLIVER * pitch <= beyond < pitch


def _backed_by_other_views(best: PanelReading, readings: list[PanelReading]) -> float:
    """The best reading's confidence, raised when another candidate reads the same number.

    Candidates are different crops, scales and straightenings of the photo (the whole
    frame among them); glare or wear that misleads one view seldom spells the same
    number in another. Views of one display are not independent, so the other view
    closes only part of the doubt. Only a number of complete form is backed: a point,
    two digits or more before it and no leading zero. Views cut through the panel
    agree as readily on a piece of the number, or on a reading that missed its point.
    """
    whole = _integer_part(best.text)
    if "." not in best.text or len(whole) < 2 or whole.startswith("0"):
        return best.confidence
    backing = _same_reading_elsewhere(best, readings)
    if backing < SECOND_VIEW_SHARE * best.confidence:
        return best.confidence
    return best.confidence + (1.0 - best.confidence) * backing * SECOND_VIEW_WEIGHT


def _same_reading_elsewhere(best: PanelReading, readings: list[PanelReading]) -> float:
    """The confidence of the surest other view (another candidate's quad) that reads the best's text, or 0."""
    return max(
        (other.confidence for other in readings if other.text == best.text and other.quad != best.quad), default=0.0
    )


def _has_rival(best: PanelReading, readings: list[PanelReading]) -> bool:
    """Whether another part of the photo reads as a different number, nearly as surely.

    Candidates that overlap are the same display seen whole or in part; one elsewhere
    (printed words under the panel, a second display, a sticker) that also reads leaves
    it unclear which is the display.
    """
    return any(
        other.text != best.text and other.confidence >= RIVAL_SHARE * best.confidence and not _same_place(other, best)
        for other in readings
    )


def _contradicted(best: PanelReading, readings: list[PanelReading]) -> bool:
    """Whether another view of the same place reads another number, at least
    CONTRADICTION_SHARE as surely as the best, and more surely than any other view that
    reads the best's.

    Views of one display that read different numbers cannot both be right: glare or a
    worn segment has misled one of them, and the best may be that one, unless a third
    view sides with it. A view whose digits hold the other's (a candidate cut through
    the panel, a digit lost at the edge, a point missed) does not contradict it: those
    are weighed by _piece_of_longer_reading and the point's own doubts.
    """
    mine = _digits_only(best.text)
    return _outweighed(best, readings, lambda text: mine not in _digits_only(text) and _digits_only(text) not in mine)


def _point_contradicted(best: PanelReading, readings: list[PanelReading]) -> bool:
    """Whether another view of the same place reads the best's digits with its point after
    another digit, at least CONTRADICTION_SHARE as surely as the best, and more surely than
    any other view that reads the best's.

    Both saw a lit point, and one took a faint unlit point or a speck for it (32.00 read
    as 320.0): the number is ten times off one way or the other, and nothing says which.
    """
    return _outweighed(best, readings, lambda text: _point_moved(best.text, text))


def _outweighed(best: PanelReading, readings: list[PanelReading], differs: Callable[[str], bool]) -> bool:
    """Whether a view of the same place whose text `differs` from the best's is at least
    CONTRADICTION_SHARE as sure as the best, and surer than any other view reading the best's."""
    against = max(
        (other.confidence for other in readings if _same_place(other, best) and differs(other.text)),
        default=0.0,
    )
    return against >= CONTRADICTION_SHARE * best.confidence and against > _same_reading_elsewhere(best, readings)


def _point_moved(text: str, other: str) -> bool:
    """Whether two readings show the same digits, each with a point, after different digits."""
    if "." not in text or "." not in other or _digits_only(text) != _digits_only(other):
        return False
    return _whole_digits(text) != _whole_digits(other)


def _piece_of_longer_reading(best: PanelReading, readings: list[PanelReading]) -> bool:
    """Whether the best reading lies within a view that reads more digits before the point,
    or the same number with a minus sign before it.

    The longer reading must end in the best one's digits (a piece cut from the left).
    A candidate cut through the panel (a reflection's edge, a segment's border) reads a
    piece of the number, often more clearly than the whole: the larger view's longer
    reading says a piece is what it is. A piece that leaves out the sign is a value of
    the other sign: a thermometer's -3.2 read as 3.2.
    """
    return any(
        (
            _whole_digits(other.text) > _whole_digits(best.text)
            and _integer_part(other.text).endswith(_integer_part(best.text))
            or other.text == "-" + best.text  # the sign cut off: a value of the other sign
        )
        and other.confidence >= PIECE_SHARE * best.confidence
        and _overlap(best.quad, other.quad) >= 0.8
        for other in readings
    )


def _digits_only(text: str) -> str:
    return "".join(character for character in text if character.isdigit())


def _integer_part(text: str) -> str:
    return _digits_only(text.split(".")[0])


def _whole_digits(text: str) -> int:
    """Digits before the point: a piece cut from the left loses some, marks at the right end add none."""
    return len(_integer_part(text))


def _same_place(one: PanelReading, other: PanelReading) -> bool:
    """Whether two views look at the same place: the same display, seen whole or in part."""
    return _overlap(one.quad, other.quad) >= SAME_PLACE


def _overlap(a: tuple[tuple[float, float], ...], b: tuple[tuple[float, float], ...]) -> float:
    """Shared area of two quads' bounding boxes, as a share of the smaller box."""
    (ax0, ay0), (ax1, ay1) = np.min(a, axis=0), np.max(a, axis=0)
    (bx0, by0), (bx1, by1) = np.min(b, axis=0), np.max(b, axis=0)
    shared = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return float(shared / smaller) if smaller > 0 else 1.0


def _preference(reading: PanelReading) -> float:
    """Confidence, with a bonus per sign: a candidate cut through the panel reads fewer of them."""
    minus = 0.04 if reading.text.startswith("-") else 0.0
    cut = CUT_SHORT_PREFERENCE if reading.cut_short else 0.0
    return reading.confidence + 0.08 * min(reading.cells, 8) + minus - cut


def _pyramid(brightness: np.ndarray) -> list[np.ndarray]:
    """The image halved until it fits the working size; level n is 2**n times smaller."""
    levels = [brightness]
    while max(levels[-1].shape) > WORK_SIDE:
        levels.append(cv2.pyrDown(levels[-1]))
    return levels


# Panel candidates -------------------------------------------------------------------


def _panel_candidates(work: np.ndarray, work_colour: np.ndarray) -> list[np.ndarray]:
    """Corner quads (top left, top right, bottom right, bottom left), best first."""
    height, width = work.shape
    smooth = cv2.GaussianBlur(work, (5, 5), 0)
    # Edges in every colour channel: a magenta housing and a grey panel differ in hue only.
    channels = cv2.split(cv2.GaussianBlur(work_colour, (5, 5), 0)) if work_colour.ndim == 3 else [smooth]
    edges = np.zeros_like(work)
    for channel in channels:
        edges |= cv2.Canny(channel, 20, 60)
    masks = [cv2.dilate(edges, np.ones((3, 3), np.uint8))]
    _, otsu = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks += [otsu, 255 - otsu]
    scored: list[tuple[float, np.ndarray]] = []
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            quad = _rectangle_quad(contour, height * width)
            if quad is not None:
                # A region cut off by the frame is background as often as a panel the
                # photo cuts short: tried, after the panels seen whole.
                cut_short = FRAME_EDGE_PENALTY if _against_frame_edge(quad, width, height) else 1.0
                scored.append((_stroke_promise(work, quad) * cut_short, quad))
    scored.sort(key=lambda item: -item[0])
    quads: list[np.ndarray] = []
    for _, quad in scored:
        if _distinct(quad, quads, work.shape):
            quads.append(quad)
        if len(quads) == MAX_CANDIDATES:
            break
    whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    return quads + [whole]


Box = tuple[int, int, int, int]  # x, y, width, height


def _distinct(quad: np.ndarray, quads: list[np.ndarray], shape: tuple[int, ...]) -> bool:
    """Whether no corner of `quad` is within 2% of the frame's side of the same corner of another."""
    return all(np.abs(quad - other).max() > 0.02 * max(shape[:2]) for other in quads)


def _digit_row_candidates(work: np.ndarray) -> list[np.ndarray]:
    """Boxes round rows of digit-sized marks, dark or lit, best first: more and taller marks.

    A panel whose outline the photo loses (a shadow or a dark housing run into it, the
    frame's edge cuts it) still shows its digits: marks of one height side by side.
    The box keeps a margin round the row, as a panel does, but little above and below
    it, where the panel's edge often is.
    """
    height, width = work.shape
    smooth = cv2.GaussianBlur(work, (5, 5), 0)
    size = max(9, min(height, width) // 12) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    level = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel)
    # Dark marks as a share of the level around them, as in _stroke_map: a dark panel's
    # digits stand out from it as much as a light panel's do.
    dark = cv2.divide(cv2.subtract(level, smooth), np.maximum(level, np.uint8(60)), scale=100, dtype=cv2.CV_8U)
    lit = cv2.subtract(smooth, cv2.morphologyEx(smooth, cv2.MORPH_OPEN, kernel))
    lit_threshold = max(MIN_STROKE_CONTRAST, 0.4 * float(np.percentile(lit[::2, ::2], 99.5)))
    scored: list[tuple[float, np.ndarray]] = []
    for marks, threshold in ((dark, DARK_MARK_PERCENT), (lit, lit_threshold)):
        mask = (marks > threshold).astype(np.uint8)
        # Segments of a digit joined into one mark.
        joined = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((size // 3 | 1, size // 3 | 1), np.uint8))
        _, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        marked = [(int(x), int(y), int(w), int(h), int(area)) for x, y, w, h, area in stats[1:] if h <= height / 2]
        parts = [(x, y, w, h) for x, y, w, h, area in marked if area >= 4]
        # Digit-sized: a lone 1 is narrow, and a 7 or a 1 covers little of its box.
        digits = sorted((x, y, w, h) for x, y, w, h, area in marked if h >= 8 and w <= 2 * h and area >= h * h / 40)
        for row, tall in _rows(digits, parts):
            x0, y0, x1, y1 = _extent(row)
            if x1 - x0 < 1.5 * tall:
                continue
            pad_x, pad_y = ROW_PADDING[0] * tall, ROW_PADDING[1] * tall
            left, right = max(0.0, x0 - pad_x), min(float(width), x1 + pad_x)
            top, bottom = max(0.0, y0 - pad_y), min(float(height), y1 + pad_y)
            quad = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)
            scored.append((len(row) * tall, quad))
    scored.sort(key=lambda item: -item[0])
    return [quad for _, quad in scored[:ROW_CANDIDATES]]


def _rows(digits: list[Box], parts: list[Box]) -> list[tuple[list[Box], float]]:
    """Rows of two digit-sized marks or more, left to right, each with the parts around it,
    and the height of its digits.

    A mark joins a row when it shares most of its rows, is about as tall and lies within
    ROW_GAP of its last mark. Then parts too broken or small to pass for a digit (a
    faint segment, a small trailing digit) join a row they lie within, near its ends.
    """
    rows: list[list[Box]] = []
    for box in digits:
        x, y, w, h = box
        for row in rows:
            rx, ry, rw, rh = row[-1]
            shared = min(y + h, ry + rh) - max(y, ry)
            alike = shared >= 0.6 * min(h, rh) and max(h, rh) <= 1.6 * min(h, rh)
            if alike and x - (rx + rw) <= ROW_GAP * max(h, rh):
                row.append(box)
                break
        else:
            rows.append([box])
    found = [(row, float(np.median([h for _, _, _, h in row]))) for row in rows if len(row) >= 2]
    # Parts by where they start and by where they end, to find those near a row's ends.
    by_left = sorted(parts)
    lefts = [x for x, _, _, _ in by_left]
    by_right = sorted(parts, key=lambda part: part[0] + part[2])
    rights = [x + w for x, _, w, _ in by_right]
    for row, tall in found:
        members = set(row)
        reach = ROW_GAP * tall
        grown = True
        while grown:  # each pass adds the parts near either end of the row as it stood
            x0, y0, x1, y1 = _extent(row)
            after = by_left[bisect.bisect_left(lefts, x1) : bisect.bisect_right(lefts, x1 + reach)]
            before = by_right[bisect.bisect_left(rights, x0 - reach) : bisect.bisect_right(rights, x0)]
            near = [
                part
                for part in dict.fromkeys(after + before)
                if part not in members and part[1] >= y0 - 0.15 * tall and part[1] + part[3] <= y1 + 0.15 * tall
            ]
            row.extend(near)
            members.update(near)
            grown = bool(near)
    return found


def _extent(boxes: list[Box]) -> tuple[int, int, int, int]:
    """Left, top, right and bottom of the boxes taken together."""
    return (
        min(x for x, _, _, _ in boxes),
        min(y for _, y, _, _ in boxes),
        max(x + w for x, _, w, _ in boxes),
        max(y + h for _, y, _, h in boxes),
    )


def _grown_quad(
    quad: np.ndarray, panel_shape: tuple[int, ...], grow: tuple[float, float, float, float], frame: tuple[int, ...]
) -> np.ndarray | None:
    """The candidate `quad` grown by `grow` panel heights (left, top, right, bottom), along its
    own sides and in its own perspective, and kept within the frame; None if it cannot grow."""
    height, width = panel_shape[:2]
    left, top, right, bottom = (amount * height for amount in grow)
    panel = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    to_image = cv2.getPerspectiveTransform(panel, quad.astype(np.float32))
    grown = np.array(
        [[-left, -top], [width + right, -top], [width + right, height + bottom], [-left, height + bottom]], np.float32
    )
    corners = cv2.perspectiveTransform(grown[None], to_image)[0]
    corners[:, 0] = np.clip(corners[:, 0], 0, frame[1])
    corners[:, 1] = np.clip(corners[:, 1], 0, frame[0])
    if np.abs(corners - quad).max() < 1.0:
        return None
    return corners.astype(np.float32)


def _against_frame_edge(quad: np.ndarray, width: int, height: int) -> bool:
    """Two corners on the frame's edge: a region of background cut off by the frame, not a panel."""
    near = (quad[:, 0] <= 2) | (quad[:, 1] <= 2) | (quad[:, 0] >= width - 3) | (quad[:, 1] >= height - 3)
    return int(near.sum()) >= 2


def _rectangle_quad(contour: np.ndarray, image_area: float) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    area = cv2.contourArea(hull)
    if area < 0.01 * image_area or area > 0.98 * image_area:
        return None
    (_, _), (w, h), _ = cv2.minAreaRect(hull)
    x, y, box_w, box_h = cv2.boundingRect(hull)
    # Panels are landscape: digits side by side with a margin around them.
    if area < 0.85 * w * h or box_w < 1.2 * box_h or max(w, h) > 14 * min(w, h):
        return None
    approx = cv2.approxPolyDP(hull, 0.03 * cv2.arcLength(hull, True), True)
    points = approx[:, 0, :] if len(approx) == 4 else cv2.boxPoints(cv2.minAreaRect(hull))
    return _ordered_corners(points.astype(np.float32))


def _ordered_corners(points: np.ndarray) -> np.ndarray:
    sums, diffs = points.sum(axis=1), points[:, 1] - points[:, 0]
    return np.array(
        [points[sums.argmin()], points[diffs.argmin()], points[sums.argmax()], points[diffs.argmax()]], np.float32
    )


def _stroke_promise(work: np.ndarray, quad: np.ndarray) -> float:
    """How much a candidate looks like a panel with strokes: contrast inside, not too big."""
    x0, y0 = np.maximum(quad.min(axis=0).astype(int), 0)
    x1, y1 = quad.max(axis=0).astype(int)
    inside = work[y0:y1, x0:x1]
    if inside.size == 0:
        return 0.0
    low, median, high = np.percentile(inside[::2, ::2], (3, 50, 97))
    contrast = max(median - low, high - median)
    share = inside.size / work.size
    return float(contrast * (1.0 - 0.5 * share))


def _rectify(pyramid: list[np.ndarray], quad: np.ndarray) -> np.ndarray:
    """The panel inside `quad` (full-resolution corners), straightened to PANEL_HEIGHT rows."""
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    quad_w, quad_h = max(top, bottom), max(left, right)
    # The coarsest level that still has the panel at full working height, to avoid aliasing.
    level = 0
    while level + 1 < len(pyramid) and quad_h / 2 ** (level + 1) >= PANEL_HEIGHT:
        level += 1
    out_h = PANEL_HEIGHT
    out_w = int(min(MAX_PANEL_WIDTH, max(32, round(out_h * quad_w / max(quad_h, 1)))))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    homography = cv2.getPerspectiveTransform((quad / 2**level).astype(np.float32), target)
    return cv2.warpPerspective(
        pyramid[level], homography, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _rectify_later(pyramid: Callable[[], list[np.ndarray]], quad: np.ndarray) -> np.ndarray:
    """_rectify, on a pyramid made when first needed."""
    return _rectify(pyramid(), quad)


# Reading one rectified panel ---------------------------------------------------------


def _read_panel(
    panel: np.ndarray, dark_panel: Callable[[], np.ndarray] | None, options: DisplayOptions
) -> PanelReading:
    """The panel read for lit and for dark strokes, the likelier polarity first.

    `panel` is the brightest colour channel; `dark_panel` makes the darkest (None for a
    grey image). Dark strokes are looked for in the brightest channel first, where a
    coloured housing is not dark and glare leaves the most contrast; the darkest channel
    is read too when that reading is poor, or has no decimal point: a pump's red point
    on its grey LCD is dark only there.
    """
    results: dict[tuple[bool, bool], PanelReading | ReadError] = {}

    def read(darkest: bool, dark: bool) -> PanelReading:
        if (darkest, dark) not in results:
            try:
                view = dark_panel() if darkest and dark_panel else panel
                results[darkest, dark] = _read_strokes(_stroke_map(view, dark), options)
            except ReadError as error:
                results[darkest, dark] = error
        result = results[darkest, dark]
        if isinstance(result, ReadError):
            raise result
        return result

    first_dark = _digits_look_dark(panel)
    best: PanelReading | None = None
    failure: ReadError | None = None
    views = [(False, first_dark), (False, not first_dark)]
    if dark_panel is not None:
        views.insert(1 if first_dark else 2, (True, True))
    for darkest, dark in views:
        try:
            reading = read(darkest, dark)
        except ReadError as error:
            if failure is None or isinstance(error, Implausible) and not isinstance(failure, Implausible):
                failure = error
            continue
        if dark and not darkest and dark_panel is not None and "." not in reading.text:
            reading = _with_coloured_point(reading, partial(read, True, True))
        brightest = results.get((False, True))
        if darkest and isinstance(brightest, PanelReading) and reading.cells > brightest.cells:
            continue  # the darkest channel's extra digits: a coloured housing or print beside the row
        if best is None or reading.confidence > best.confidence:
            best = reading
        # The other polarity reads the gaps between strokes, and the darkest channel more
        # than the digits: only a poor reading is worth that risk.
        if best.confidence >= SURE_OF_POLARITY:
            break
    if best is None:
        raise failure or ReadError("no digits")
    return best


def _with_coloured_point(reading: PanelReading, read_darkest: Callable[[], PanelReading]) -> PanelReading:
    """The reading with the decimal point the darkest channel shows, if that channel reads
    the same digits with a point, about as surely; else the reading as it was."""
    try:
        pointed = read_darkest()
    except ReadError:
        return reading
    same_digits = "." in pointed.text and pointed.text.replace(".", "") == reading.text
    if same_digits and pointed.confidence >= COLOURED_POINT_SHARE * reading.confidence:
        return pointed
    return reading


def _digits_look_dark(panel: np.ndarray) -> bool:
    """Dark digits on a light panel: more is darker than the panel's usual level than lighter."""
    height, width = panel.shape
    # The middle of the candidate: a housing around the panel must not sway the count.
    sample = panel[height // 5 : height - height // 5 : 2, width // 10 : width - width // 10 : 2].astype(np.float32)
    level = float(np.median(sample))
    darker = np.clip(level - sample - 10, 0, None).sum()
    lighter = np.clip(sample - level - 10, 0, None).sum()
    return bool(darker >= lighter)


def _stroke_map(panel: np.ndarray, dark: bool) -> np.ndarray:
    """Stroke strength 0..1 per pixel for strokes of the given polarity.

    Dark strokes are measured against the panel's local level (a ratio, so shade and
    a dim corner do not matter); lit strokes by how far they rise above it. Each pixel
    is then scaled by the strongest stroke nearby, with a floor that keeps the faint
    unlit segments of an LCD faint.
    """
    size = PANEL_HEIGHT // 4 | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    smooth = cv2.GaussianBlur(panel, (3, 3), 0).astype(np.float32)
    if dark:
        level = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel)
        # The floor keeps sensor noise on a dark panel from turning into large ratios.
        strokes = 255.0 * (level - smooth) / np.maximum(level, 100.0)
    else:
        strokes = smooth - cv2.morphologyEx(smooth, cv2.MORPH_OPEN, kernel)
    peak = float(np.percentile(strokes, 99.5))
    if peak < MIN_STROKE_CONTRAST:
        raise ReadError("no strokes on the panel")
    window = cv2.getStructuringElement(cv2.MORPH_RECT, (PANEL_HEIGHT | 1, PANEL_HEIGHT // 2 | 1))
    nearby = cv2.blur(cv2.dilate(strokes, window), (PANEL_HEIGHT // 2, PANEL_HEIGHT // 4))
    return np.clip(strokes / np.maximum(nearby, NEARBY_FLOOR * peak), 0, 1)


@dataclass
class Band:
    top: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def _read_strokes(strokes: np.ndarray, options: DisplayOptions) -> PanelReading:
    ink, cut, rim = _ink_mask(strokes)
    tilt = _tilt(ink)
    if tilt:  # corners found a little off: the row still leans
        strokes, ink = _level(strokes, tilt), _level(ink.astype(np.float32), tilt) > 0.5
        rim = _level(rim.astype(np.float32), tilt) > 0.5
    band = _three_bar_band(ink | rim) or _digit_band(ink)
    ink = _with_rim_in_band(ink, rim, band)
    if not ink[band.top : band.bottom].any():
        raise ReadError("no strokes on the panel")
    cut_sides = _cut_sides(cut, band)
    penalty = CUT_ROW_PENALTY if cut_sides else 1.0
    margins = _has_margins(ink, band)
    if not margins:
        penalty *= NO_MARGIN_PENALTY  # digits up against the candidate's edge: maybe a piece of the panel
    grow = (0.0, 0.0, 0.0, 0.0)
    if cut_sides:
        row = band.height / ink.shape[0]  # the digits' height, in panel heights
        all_round = 0.0 if margins else MARGIN_GROWTH
        grow = (
            ROW_GROWTH * row if "left" in cut_sides else all_round,
            all_round,
            ROW_GROWTH * row if "right" in cut_sides else all_round,
            all_round,
        )
    margin = max(2, band.height // 8)
    top, bottom = max(0, band.top - margin), min(ink.shape[0], band.bottom + margin)
    strokes, ink = strokes[top:bottom], ink[top:bottom]
    band = Band(band.top - top, band.bottom - top)
    shear = _slant(strokes, band)
    strokes, ink = _unslant(strokes, shear, band), _unslant(ink.astype(np.float32), shear, band) > 0.5
    try:
        reading = _read_row(strokes, ink, band, options)
    except Implausible as error:
        error.grow = grow
        raise

    def row_to_panel(points: np.ndarray) -> np.ndarray:
        # _unslant, the crop to the band and _level undone, in that order.
        x = points[:, 0] - shear * (points[:, 1] - band.bottom)
        y = points[:, 1] + top
        if tilt:
            y = y + tilt * (x - ink_width / 2)
        return np.stack([x, y], axis=1)

    ink_width = ink.shape[1]
    digits = tuple(mark.moved(row_to_panel) for mark in reading.digits)
    return replace(reading, confidence=reading.confidence * penalty, digits=digits, grow=grow)


def _tilt(ink: np.ndarray) -> float:
    """Rows of drop per column of the digit row, from where the horizontal segments line up best."""
    if not ink.any():
        return 0.0
    stroke = _stroke_width(ink, ink.shape[0] // 2)
    # Bars wider than a stroke is thick: the horizontal segments, without the vertical ones.
    bars = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, int(2 * stroke) | 1), np.uint8))
    ys, xs = np.nonzero(bars[:, ::2])
    if len(xs) < 50:
        return 0.0
    xs = 2 * xs - ink.shape[1] / 2
    best_tilt, best_score = 0.0, -1.0
    level_score = 0.0
    for tilt in np.arange(-0.1, 0.101, 0.0125):
        position = ys - tilt * xs
        position -= position.min()
        row = np.floor(position).astype(np.int64)
        fraction = position - row
        counts = np.bincount(row, 1 - fraction) + np.bincount(row + 1, fraction)[: row.max() + 1]
        score = float((counts**2).sum())
        if abs(tilt) < 1e-9:
            level_score = score
        if score > best_score:
            best_tilt, best_score = float(tilt), score
    return 0.0 if abs(best_tilt) < 0.01 or best_score < 1.05 * level_score else best_tilt


def _level(image: np.ndarray, tilt: float) -> np.ndarray:
    # y' = y - tilt * (x - centre): the row turns level about the panel's centre.
    centre = image.shape[1] / 2
    matrix = np.array([[1.0, 0.0, 0.0], [-tilt, 1.0, tilt * centre]], np.float32)
    return cv2.warpAffine(
        image.astype(np.float32), matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderValue=0
    )


def _has_margins(ink: np.ndarray, band: Band) -> bool:
    """Whether the digit row keeps clear of the panel's edges, as on a real panel."""
    height = band.height
    columns = np.flatnonzero(ink[band.top : band.bottom].any(axis=0))
    return bool(
        band.top >= 0.05 * height
        and ink.shape[0] - band.bottom >= 0.05 * height
        and columns[0] >= 0.2 * height
        and ink.shape[1] - columns[-1] >= 0.2 * height
    )


def _ink_mask(strokes: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, str]], np.ndarray]:
    """Stroke pixels, without specks and without whatever touches the panel's edge.

    Also the rows (top, bottom) and the side ("left" or "right") of the marks dropped at
    the left and right edges, and the marks dropped at the top and bottom edges only
    (digits that fill a tight panel).
    """
    ink = (strokes > 0.45).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    height, width = ink.shape
    keep = np.zeros(count, bool)
    rim = np.zeros(count, bool)
    cut: list[tuple[int, int, str]] = []
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        at_side = x == 0 or x + w == width
        at_top_or_bottom = y == 0 or y + h == height
        # A long flat line is the panel's frame or a reflection's edge: no segment is
        # wider than a digit is tall.
        rule = w > 0.8 * height and h < 0.25 * w
        keep[label] = area >= 10 and not at_side and not at_top_or_bottom and not rule
        rim[label] = area >= 10 and at_top_or_bottom and not at_side and not rule and w < 0.8 * height
        if at_side and area >= 10:
            cut.append((int(y), int(y + h), "left" if x == 0 else "right"))
    return keep[labels], cut, rim[labels]


def _with_rim_in_band(ink: np.ndarray, rim: np.ndarray, band: Band) -> np.ndarray:
    """The ink, with the marks at the top or bottom edge that lie within the digit row.

    A panel cut tight round its digits (or digits joined to the edge by a reflection)
    touches them: they are digits, not the frame, when they keep to the row's rows.
    """
    if not rim.any():
        return ink
    count, labels, stats, _ = cv2.connectedComponentsWithStats(rim.astype(np.uint8), connectivity=8)
    slack = 0.1 * band.height
    inside = np.zeros(count, bool)
    for label in range(1, count):
        _, y, _, h, _ = stats[label]
        inside[label] = y >= band.top - slack and y + h <= band.bottom + slack
    return ink | inside[labels]


def _cut_sides(cut: list[tuple[int, int, str]], band: Band) -> set[str]:
    """The sides where marks dropped at the edge look like parts of digits: where the candidate
    cuts the row (none when it does not)."""
    height = band.height
    inside = [
        (top, bottom, side)
        for top, bottom, side in cut
        if top >= band.top - 0.2 * height and bottom <= band.bottom + 0.2 * height
    ]
    # Segments drawn apart are cut as separate pieces: what counts is the rows they span together.
    if not inside or max(b for _, b, _ in inside) - min(t for t, _, _ in inside) < 0.3 * height:
        return set()
    return {side for _, _, side in inside}


def _digit_band(ink: np.ndarray) -> Band:
    """The rows of the digit row: the run of inked rows with the most ink.

    A band nearly as tall as the panel has taken in specks, scratches or the glass's
    edge above or below the digits: it is sought again among the rows with more ink.
    """
    profile = cv2.blur(ink.sum(axis=1).astype(np.float32)[:, None], (1, 3))[:, 0]
    if profile.max(initial=0) < 3:
        raise ReadError("no strokes on the panel")
    band = _band_at(profile, BAND_SHARE, ink.shape[0] // 12)
    if band.height > TALL_BAND * ink.shape[0]:
        band = _bar_band(ink) or _band_at(profile, 3 * BAND_SHARE, ink.shape[0] // 12)
    if band.height < MIN_DIGIT_HEIGHT:
        raise ReadError("strokes too small to be digits")
    return band


def _bar_band(ink: np.ndarray) -> Band | None:
    """The rows from the digits' top bars to their bottom bars, or None without both.

    Vertical specks, a frame's side or a reflection's edge run through every row, but
    only the digits' horizontal segments make bars: the top and bottom ones bound the row.
    """
    stroke = _stroke_width(ink, ink.shape[0] // 2)
    bars = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, int(2 * stroke) | 1), np.uint8))
    profile = cv2.blur(bars.sum(axis=1).astype(np.float32)[:, None], (1, 3))[:, 0]
    if profile.max(initial=0) < 3 * stroke:
        return None
    runs = _runs(profile > 0.25 * profile.max(), max_gap=1)
    if len(runs) < 2:
        return None
    band = Band(runs[0][0], runs[-1][1])
    return band if band.height <= TALL_BAND * ink.shape[0] else None


def _three_bar_band(ink: np.ndarray) -> Band | None:
    """The digit row from its three levels of horizontal bars (top, middle, bottom), or None.

    Seven-segment digits put their horizontal segments at three evenly spaced heights,
    the same for every digit of the row: no frame, speck or reflection does.
    """
    height = ink.shape[0]
    bars = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, height // 8 | 1), np.uint8))
    profile = cv2.blur(bars.sum(axis=1).astype(np.float32)[:, None], (1, 5))[:, 0]
    floor = max(0.15 * float(profile.max(initial=0)), 2.0 * (height // 8))
    padded = np.concatenate([[0.0], profile, [0.0]])  # a bar at the panel's edge still peaks
    peaks = [
        row
        for row in range(height)
        if profile[row] >= floor and padded[row + 1] >= padded[row] and padded[row + 1] > padded[row + 2]
    ]
    # Every digit has a vertical segment in each half: ink in every row between its bars.
    # A strip along the panel's edge below (or above) the digits leaves empty rows between.
    rows = cv2.blur(ink.sum(axis=1).astype(np.float32)[:, None], (1, 3))[:, 0]
    best: tuple[float, int, int] | None = None
    for i, top in enumerate(peaks):
        for bottom in peaks[i + 1 :]:
            span = bottom - top
            if span < MIN_DIGIT_HEIGHT:
                continue
            middle = max(
                (row for row in peaks if abs(row - (top + bottom) / 2) <= 0.1 * span),
                key=lambda row: profile[row],
                default=None,
            )
            if middle is None:
                continue
            # The middle bar lies halfway between the other two: a speck or a reflection's
            # edge merged with the top or bottom bars pulls that bar's peak off its place.
            off_centre = abs(middle - (top + bottom) / 2) / span
            score = float(profile[top] + profile[middle] + profile[bottom]) * (1.0 - OFF_CENTRE_COST * off_centre)
            if best is None or score > best[0]:
                reach = max(1, int(round(BAR_REACH * span)))
                between = rows[top + reach : bottom - reach + 1]
                if between.size and between.min() < JOINED_ROWS * float(np.median(between)):
                    continue
                best = (score, top, bottom)
    if best is None:
        return None
    _, top, bottom = best
    # Out to where each outer bar fades: half its peak.
    while top > 0 and profile[top - 1] > 0.5 * profile[best[1]]:
        top -= 1
    while bottom < height - 1 and profile[bottom + 1] > 0.5 * profile[best[2]]:
        bottom += 1
    return Band(top, bottom + 1)


def _band_at(profile: np.ndarray, share: float, max_gap: int) -> Band:
    rows = profile > share * profile.max()
    runs = _runs(rows, max_gap=max_gap)
    top, bottom = max(runs, key=lambda run: profile[run[0] : run[1]].sum())
    inked = np.flatnonzero(profile[top:bottom] > share / 2 * profile[top:bottom].max()) + top
    return Band(int(inked[0]), int(inked[-1]) + 1)


def _runs(flags: np.ndarray, max_gap: int = 0) -> list[tuple[int, int]]:
    """(start, end) of the runs of True, joining runs split by at most `max_gap` False."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=False)]
    joined: list[tuple[int, int]] = []
    for start, end in runs:
        if joined and start - joined[-1][1] <= max_gap:
            joined[-1] = (joined[-1][0], end)
        else:
            joined.append((start, end))
    return joined


def _slant(strokes: np.ndarray, band: Band) -> float:
    """The shear (x shift per row upwards, in rows) that stands the vertical strokes upright.

    Measured on the steep edges of the strokes, whose gradient leans with the digits.
    """
    rows = cv2.GaussianBlur(strokes[band.top : band.bottom].astype(np.float32), (0, 0), max(1.0, 0.03 * band.height))
    gx = cv2.Sobel(rows, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(rows, cv2.CV_32F, 0, 1, ksize=3)
    steep = (np.abs(gx) > 2.0 * np.abs(gy)) & (np.abs(gx) > 0.3 * float(np.abs(gx).max(initial=0)))
    if steep.sum() < 20:
        return 0.0
    slopes = gy[steep] / gx[steep]
    weights = np.abs(gx[steep])
    order = np.argsort(slopes)
    cumulative = np.cumsum(weights[order])
    median = float(slopes[order][np.searchsorted(cumulative, cumulative[-1] / 2)])
    return float(np.clip(median, -0.15, 0.4))


def _unslant(image: np.ndarray, shear: float, band: Band) -> np.ndarray:
    if shear == 0.0:
        return image.astype(np.float32)
    # x' = x - shear * (bottom - y): the baseline stays put, the tops move left.
    matrix = np.array([[1.0, shear, -shear * band.bottom], [0.0, 1.0, 0.0]], np.float32)
    return cv2.warpAffine(
        image.astype(np.float32), matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderValue=0
    )


@dataclass
class Cell:
    left: int
    right: int
    kind: str  # "digit", "one" (a narrow 1) or "minus"
    point: bool = False
    point_strength: float = 0.0  # mean stroke strength of the point's blob
    off_pitch: bool = False  # its right edge keeps to no place on the row's grid of digits
    one_dropped_before: bool = False  # a narrow mark off the grid, maybe a 1, was dropped close before it


def _read_row(strokes: np.ndarray, ink: np.ndarray, band: Band, options: DisplayOptions) -> PanelReading:
    height = band.height
    cells, penalty = _cells(ink, band)
    if not cells:
        raise ReadError("no digits")
    stroke = _stroke_width(ink[band.top : band.bottom], height)
    if stroke > 0.25 * height:
        raise ReadError("marks too thick to be segments")
    if _mark_decimal_points(ink, cells, band, stroke, strokes):
        penalty *= POINT_CHOICE_PENALTY  # the lit point told from faint unlit ones: it may be hidden by its digit
    if not any(cell.point for cell in cells) and max(_gap_marks(strokes, cells, band, stroke), default=0.0) >= GAP_MARK:
        penalty *= UNSEEN_POINT_PENALTY  # ink at the foot of a gap, too faint or small for a point: maybe one missed
    digit_width = _digit_width(cells, height)
    for cell in cells:
        if cell.kind == "one":
            cell.left = max(0, cell.right - int(round(digit_width)))
    characters: list[str] = []
    margins: list[float] = []
    if any(_filled(strokes, cell, band, stroke) for cell in cells if cell.kind == "digit"):
        raise ReadError("filled shapes, not segments")  # e.g. the gaps between the strokes, read inverted
    scores = [_segment_scores(strokes, cell, band, stroke) for cell in cells]
    lit_level = _lit_level(scores, cells)
    split = _split_ratio(scores, cells, lit_level)
    if lit_level < MIN_LIT_LEVEL:
        raise ReadError("segments too faint or ragged to read")
    explained: list[float] = []
    agreements: list[float] = []
    last_read: Cell | None = None  # the last cell read as a character; the ones after it were skipped
    marks: list[DigitMark] = []
    verdicts = digit_cells.classify(
        np.array([digit_cells.cell_input(strokes, _cell_box(strokes, cell, band)) for cell in cells])
    )
    for cell, cell_scores, (learned, sureness) in zip(cells, scores, verdicts, strict=True):
        if cell.kind == "minus":
            character, margin = "-", 1.0
            if _lit(_segment_ratios(cell_scores, lit_level), split) != {"g"} and _at_row_end(cell, cells):
                # Bars above or below the middle one: a reflection's edges, not a sign.
                penalty *= EDGE_MARK_PENALTY
                agreements.append(_skip_confirmed(learned, sureness))
                continue
        else:
            try:
                character, margin = _decide_digit(cell_scores, lit_level, len(cells), split)
                if margin < 0:
                    penalty *= REPAIR_PENALTY  # read as the nearest digit: one segment unclear
                    margin = -margin
            except Implausible:
                if learned.isdigit() and sureness >= SURE_CELL:
                    # The segments spell nothing, but the cell as a whole is plainly this
                    # digit (a 7 with a bent leg, a worn bar the probes miss).
                    character, margin = learned, 0.0
                    penalty *= LEARNED_ONLY_PENALTY
                elif not _at_row_end(cell, cells):
                    raise
                else:
                    # The panel's border or a reflection at the end of the row: not a digit.
                    penalty *= EDGE_MARK_PENALTY
                    agreements.append(_skip_confirmed(learned, sureness))
                    continue
            if cell.kind == "one" and character not in ("1", " ") and _at_row_end(cell, cells):
                # Ink one bar wide is a 1 or nothing: a wider digit read there is the
                # panel's edge beside the row, seen with the gap before it.
                penalty *= EDGE_MARK_PENALTY
                agreements.append(_skip_confirmed(learned, sureness))
                continue
            agreements.append(sureness if learned == character else 0.0)
            if learned != character and cell.off_pitch and cell is cells[-1]:
                # The last mark, off the row's pitch, that only the segments take for this
                # digit: the frame's edge or a reflection read as one, or a last digit misread.
                penalty *= OFF_PITCH_END_PENALTY
            if learned != character and sureness >= DOUBTING_CELL:
                if learned == "x" and len(cells) >= 3 and cell in (cells[0], cells[-1]):
                    # A mark at the end of the row that only looks like segments: the
                    # panel's border, a reflection's edge.
                    penalty *= EDGE_MARK_PENALTY
                    agreements.append(_skip_confirmed(learned, sureness))
                    continue
                penalty *= DISAGREEMENT_PENALTY  # the two judges differ: one of them is wrong
        if character == " ":  # a blank position: only before the number
            if characters and characters[-1] != " ":
                raise Implausible("implausible reading: a blank position inside the number", len(cells))
            continue
        if character == "-" and characters:
            raise Implausible("implausible reading: a minus sign after a digit", len(cells))
        characters.append(character + ("." if cell.point else ""))
        last_read = cell
        marks.append(_digit_mark(character, cell_scores, lit_level, split, _cell_box(strokes, cell, band)))
        margins.append(margin)
        explained.append(_explained_share(ink, strokes, cell, band, stroke, character))
    if not characters:
        raise ReadError("no lit digits")
    if cells[0].one_dropped_before and characters[0] != "-":
        penalty *= LOST_DIGIT_PENALTY  # a bar dropped off the grid before the number: maybe its leading 1
    # The last mark skipped, standing where the next digit would: the number may have lost it.
    lost_digit = last_read is not cells[-1] and _last_mark_at_next_place(cells)
    if lost_digit:
        penalty *= LOST_DIGIT_PENALTY
    if min(explained) < 0.8:
        penalty *= max(0.0, min(explained) - 0.3) / 0.5  # ink off the segments: not this digit
    text = "".join(characters)
    text, penalty = _apply_options(text, len(cells), options, penalty)
    if text.count(".") > 1:
        raise Implausible(f"implausible reading: {text!r} has more than one decimal point", len(cells))
    if text in ("-", "") or text.endswith("-") or text.startswith("-."):
        raise Implausible(f"implausible reading: {text!r} is not a number", len(cells))
    text = text.rstrip(".")
    confidence = (0.5 + 0.5 * min(margins)) * penalty
    agreement = min(agreements) if agreements else 0.0
    if sum(c.isdigit() for c in text) == 1:
        agreement = 0.0  # a lone digit stays below the threshold, confirmed or not
        # One digit alone is weak evidence of a display: a letter, a piece of a digit or a
        # mark on the housing reads as one as easily. Reported, but below the default
        # threshold the server stores at.
        confidence = min(confidence * 0.85, LONE_DIGIT_CAP)
        if text == "1":
            confidence = min(confidence, 0.4)  # and a lone bar could be anything
    return PanelReading(
        text,
        float(np.clip(confidence, 0, 1)),
        sum(c.isdigit() for c in text),
        agreement=agreement,
        digits=tuple(marks),
        row_goes_on=lost_digit,
    )


def _skip_confirmed(learned: str, sureness: float) -> float:
    """How surely the learned judge confirms a mark skipped as no digit: only its "x" does.

    A skipped mark it reads as a digit may be one the segments lost (a leading 7 half
    washed out by a reflection), so the reading is not confirmed whole.
    """
    return sureness if learned == "x" else 0.0


def _last_mark_at_next_place(cells: list[Cell]) -> bool:
    """Whether the row's last mark stands where the digit after the others would.

    The panel's frame or a reflection's edge starts close after the last digit; a mark
    as far from the digit before it as the digits are from each other may be that digit
    (a worn 1, a pale 0), and the number without it has lost its last digit. (Before the
    number, blank places with their unlit segments showing are usual: no such doubt there.)
    """
    digits = [cell for cell in cells if cell.kind != "minus"]
    if len(digits) < 4 or digits[-1] is not cells[-1]:
        return False
    *rest, last = digits
    usual = float(np.median([after.left - before.right for before, after in zip(rest, rest[1:], strict=False)]))
    return usual > 0 and last.left - rest[-1].right >= NEXT_PLACE_GAP * usual


def _digit_mark(
    character: str, scores: dict[str, float], lit_level: float, split: float, box: tuple[int, int, int, int]
) -> DigitMark:
    left, right, top, bottom = box
    segments = "".join(sorted(_lit(_segment_ratios(scores, lit_level), split)))
    return DigitMark(character, segments, ((left, top), (right, top), (right, bottom), (left, bottom)))


def _segment_ratios(scores: dict[str, float], lit_level: float) -> dict[str, float]:
    """Each segment's strength against the row's lit strength (or the cell's own strongest)."""
    reference = max(lit_level, 0.8 * max(scores.values()))
    return {name: score / reference for name, score in scores.items()}


def _lit(ratios: dict[str, float], split: float) -> frozenset[str]:
    return frozenset(name for name, ratio in ratios.items() if ratio > split)


def _at_row_end(cell: Cell, cells: list[Cell]) -> bool:
    """The first or last of three or more cells, narrower than the row's usual digit or off its pitch."""
    digits = [c.right - c.left for c in cells if c.kind == "digit"]
    narrow = cell.kind == "one" or (bool(digits) and cell.right - cell.left < 0.85 * float(np.median(digits)))
    return len(cells) >= 3 and cell in (cells[0], cells[-1]) and (narrow or cell.off_pitch)


def _mark_decimal_points(
    ink: np.ndarray, cells: list[Cell], band: Band, stroke: float, strokes: np.ndarray | None = None
) -> bool:
    """A decimal point: ink on the baseline in the gap after a digit, with nothing above it.

    The cells were cut from the rows above the baseline, so a point that blur joins to
    its digit still shows as columns beyond the digit's right edge.
    """
    height = band.height
    # A lit 1 may stop short of the row's baseline, where its point sits: the other
    # digits' bottoms place the baseline under it.
    bottoms = [_cell_box(ink, cell, band)[3] for cell in cells if cell.kind == "digit"]
    baseline = float(np.median(bottoms)) if bottoms else 0.0
    for cell, after in zip(cells, cells[1:], strict=False):
        if cell.kind == "minus":
            continue
        bottom = _cell_box(ink, cell, band)[3]  # the row may lean a little: the digit's own baseline
        if cell.kind == "one":
            bottom = int(max(bottom, baseline))
        base0, base1 = int(bottom - 0.2 * height), min(ink.shape[0], int(bottom + 0.08 * height) + 1)
        above0 = int(bottom - 0.45 * height)
        x0, x1 = cell.right, after.left
        on_base = ink[base0:base1, x0:x1].any(axis=0)
        clear_above = ~ink[above0:base0, x0:x1].any(axis=0)
        runs = _runs(on_base & clear_above, max_gap=1)
        for start, end in runs:
            mass = int(ink[base0:base1, x0 + start : x0 + end].sum())
            if 0.4 * stroke <= end - start <= 2.5 * stroke and mass >= 0.3 * stroke * stroke:
                cell.point = True
                if strokes is not None:
                    blob = ink[base0:base1, x0 + start : x0 + end]
                    strength = float(strokes[base0:base1, x0 + start : x0 + end][blob].mean())
                    cell.point_strength = max(cell.point_strength, strength)
    return _keep_the_lit_point(cells)


def _gap_marks(strokes: np.ndarray, cells: list[Cell], band: Band, stroke: float) -> list[float]:
    """Stroke strength where a decimal point sits after each digit: the gap's foot, a stroke wide."""
    height = band.height
    marks = []
    size = max(2, int(round(stroke)))
    for cell, after in zip(cells, cells[1:], strict=False):
        bottom = band.bottom
        x0, x1 = cell.right + 1, after.left - 1
        y0, y1 = int(bottom - 0.15 * height), min(strokes.shape[0], int(bottom + 0.05 * height) + 1)
        window = strokes[y0:y1, x0:x1].astype(np.float32)
        if window.size == 0 or window.shape[0] < size or window.shape[1] < size:
            marks.append(0.0)
            continue
        marks.append(
            float(
                cv2.blur(window, (size, size))[size // 2 : -(size // 2) or None, size // 2 : -(size // 2) or None].max(
                    initial=0
                )
            )
        )
    return marks


def _keep_the_lit_point(cells: list[Cell]) -> bool:
    """An LCD has a point after every position, and lights one: the unlit ones show faintly.

    Of several points the clearly strongest is the lit one; points about as strong as each
    other stay, and the reading is refused for its many points. True when unlit points were dropped.
    """
    points = [cell for cell in cells if cell.point]
    if len(points) < 2:
        return False
    strengths = sorted((cell.point_strength for cell in points), reverse=True)
    if strengths[0] < UNLIT_POINT_LEAD * strengths[1]:
        return False
    for cell in points:
        cell.point = cell.point_strength == strengths[0]
    return True


def _cells(ink: np.ndarray, band: Band) -> tuple[list[Cell], float]:
    """Digit cells, left to right, from runs of inked columns; and a penalty for stray ink."""
    height = band.height
    # Rows above the decimal points: a point near its digit must not join the two.
    rows = ink[band.top : band.bottom - int(0.22 * height)]
    columns = rows.sum(axis=0)
    runs = _runs(columns > 0, max_gap=max(1, int(0.06 * height)))
    cells: list[Cell] = []
    stray: list[tuple[int, int]] = []
    penalty = 1.0
    for start, end in runs:
        block = rows[:, start:end]
        inked_rows = np.flatnonzero(ink[band.top : band.bottom, start:end].any(axis=1))
        extent = inked_rows[-1] - inked_rows[0] + 1
        middle = (inked_rows[0] + inked_rows[-1]) / 2
        width = end - start
        if extent >= 0.4 * height:
            cells.append(Cell(start, end, "one" if width < 0.3 * height else "digit"))
        elif extent <= 0.3 * height and abs(middle - height / 2) < 0.15 * height and width >= 0.15 * height:
            cells.append(Cell(start, end, "minus"))
        elif block.sum() > 0.02 * height * height:
            stray.append((start, end))
    cells = _split_wide(cells, height, columns)
    cells = _on_pitch(cells, height)
    if cells:
        # Ink that is no part of a digit, among the digits: maybe not a display at all.
        # Glare, scratches or the frame's shadow on the glass beside the row are not.
        # Within a digit's place of the row counts as among the digits.
        reach = height
        penalty *= 0.7 ** sum(end > cells[0].left - reach and start < cells[-1].right + reach for start, end in stray)
    # The panel's frame at either end of the row: a bar running past the digits' top and
    # bottom. Dropped, at a price.
    while len(cells) > 1 and _frame_mark(cells[-1], ink, band):
        cells.pop()
        penalty *= FRAME_MARK_PENALTY
    while len(cells) > 1 and _frame_mark(cells[0], ink, band):
        cells.pop(0)
        penalty *= FRAME_MARK_PENALTY
    if any(cell.right - cell.left > 0.95 * height for cell in cells):
        raise ReadError("marks too wide to be digits")
    # A minus sign only leads; stray marks before the number are ignored.
    while len(cells) > 1 and cells[-1].kind == "minus":
        cells.pop()
        penalty *= 0.7
    # A minus sign sits right before the number; a dash further off is something else.
    while len(cells) > 1 and cells[0].kind == "minus" and _gap_after_minus(cells, height) > 0.8 * height:
        cells.pop(0)
        penalty *= 0.85
    return cells, penalty


def _row_pitch(cells: list[Cell], height: int) -> tuple[float, int] | None:
    """The distance between neighbouring digits, and a digit's right edge to count it from.

    A display sets its digits at one regular pitch, and a digit's right edge (where a 1
    stands too) marks its place. The pitch is the usual step between the right edges of
    digits of the usual width; None without three such digits in steady steps.
    """
    widths = [c.right - c.left for c in cells if c.kind == "digit"]
    if not widths:
        return None
    usual = float(np.median(widths))
    placed = [
        c.right
        for c in cells
        if c.kind == "one" or (c.kind == "digit" and abs(c.right - c.left - usual) <= 0.2 * usual)
    ]
    steps = np.diff(placed)
    steps = steps[(steps >= 0.5 * height) & (steps <= 1.2 * height)]
    if len(steps) < 2:
        return None
    pitch = float(np.median(steps))
    # Steps to a stray mark at the row's ends fall off the pitch; the digits' own keep to it.
    steady = steps[np.abs(steps - pitch) <= PITCH_SLACK * pitch]
    if len(steady) < 2 or len(steady) < 0.5 * len(steps):
        return None  # digits not evenly spaced: no grid to trust
    pitch = float(np.median(steady))
    # Counted from the digit that puts the most others on the grid: a frame's bar may stand first.
    edges = np.array(placed, float)

    def on_grid(anchor: float) -> int:
        steps = (edges - anchor) / pitch
        return int((np.abs(steps - np.round(steps)) * pitch <= PITCH_SLACK * pitch).sum())

    return pitch, int(max(placed, key=on_grid))


def _on_pitch(cells: list[Cell], height: int) -> list[Cell]:
    """The cells put on the row's grid of digit places.

    Pieces of one digit (a segment parted from the rest by glare or a worn gap) share a
    place and are joined; a narrow mark at either end of the row that keeps to no place
    (the panel's frame, a speck on the glass, a reflection's edge) is no digit and is dropped.
    """
    grid = _row_pitch(cells, height)
    if grid is None:
        return cells
    pitch, anchor = grid
    slack = PITCH_SLACK * pitch

    def place(cell: Cell) -> tuple[int, float]:
        # The place whose digit the cell ends in: the nearest grid edge at or after its right edge.
        steps = (cell.right - anchor) / pitch
        return int(np.ceil(steps - PITCH_SLACK)), abs(steps - round(steps)) * pitch

    joined: list[Cell] = []
    for cell in cells:
        if cell.kind == "minus":
            joined.append(cell)
            continue
        index, off = place(cell)
        previous = joined[-1] if joined else None
        if previous is not None and previous.kind != "minus" and off <= slack:
            previous_index, previous_off = place(previous)
            # A piece off the grid just before this digit, within the same place: one digit.
            if previous_off > slack and previous_index == index and cell.right - previous.left <= 0.95 * height:
                joined[-1] = Cell(previous.left, cell.right, "digit")
                continue
        joined.append(cell)
    widths = [float(c.right - c.left) for c in joined if c.kind == "digit"]
    digit_width = float(np.median(widths)) if widths else 0.55 * height
    while len(joined) > 2 and _stray(joined[-1], place, slack, digit_width):
        joined.pop()
    while len(joined) > 2 and _stray(joined[0], place, slack, digit_width):
        dropped = joined.pop(0)
        # A pump's leading 1 may stand half a place early: if this bar is one, the number lost it.
        joined[0].one_dropped_before = joined[0].left - dropped.right < pitch - digit_width
    for cell in joined:
        cell.off_pitch = cell.kind != "minus" and place(cell)[1] > slack
    return joined


def _stray(cell: Cell, place: Any, slack: float, digit_width: float) -> bool:
    """A narrow mark off the grid of digit places."""
    return bool(cell.kind != "minus" and place(cell)[1] > slack and cell.right - cell.left < STRAY_WIDTH * digit_width)


def _frame_mark(cell: Cell, ink: np.ndarray, band: Band) -> bool:
    """A bar that runs well past the digit row: the panel's frame, not a 1.

    A narrow one, or one as wide as a digit that is solid ink (a frame with its shadow),
    which needs less to show it: other marks as wide as a digit stay an error, as two
    digits run together look the same.
    """
    height = band.height
    if cell.kind == "one":
        past = 0.15 * height
    elif float(ink[band.top : band.bottom, cell.left : cell.right].mean()) >= SOLID_FRAME:
        past = 0.1 * height
    else:
        return False
    rows = np.flatnonzero(ink[:, cell.left : cell.right].any(axis=1))
    beyond = max(band.top - rows[0], rows[-1] + 1 - band.bottom) if rows.size else 0
    return bool(beyond > past)


def _gap_after_minus(cells: list[Cell], height: int) -> float:
    """Space between a leading minus and the first digit's cell, in pixels."""
    gap = cells[1].left - cells[0].right
    if cells[1].kind == "one":  # a 1 stands at the right of its cell: count from where the cell starts
        gap -= 0.6 * height
    return gap


def _split_wide(cells: list[Cell], height: int, columns: np.ndarray | None = None) -> list[Cell]:
    """Split cells that hold digits run together (tight spacing, blur, a reflection between).

    A cell wider than a digit can be is parted into as many digits as the row's usual
    digit width makes it, each cut at the emptiest column near the even split.
    """
    single = [c.right - c.left for c in cells if c.kind == "digit" and c.right - c.left <= 0.95 * height]
    usual = float(np.median(single)) if single else 0.6 * height
    split: list[Cell] = []
    for cell in cells:
        width = cell.right - cell.left
        if cell.kind == "digit" and width > 0.9 * height and (width > 1.6 * usual or width > 0.95 * height):
            parts = max(2, int(round(width / (usual * 1.2))))
            edges = np.linspace(cell.left, cell.right, parts + 1).astype(int)
            if columns is not None:
                reach = max(1, int(0.15 * width / parts))
                for index in range(1, parts):
                    start = max(cell.left + 1, edges[index] - reach)
                    stop = min(cell.right - 1, edges[index] + reach + 1)
                    if stop > start:
                        edges[index] = start + int(np.argmin(columns[start:stop]))
            split += [Cell(int(a), int(b), "digit") for a, b in zip(edges[:-1], edges[1:], strict=False)]
        else:
            split.append(cell)
    return split


def _stroke_width(rows: np.ndarray, height: int) -> float:
    """Twice the typical distance from a stroke's middle line to its edge.

    Measured on the middle lines (the ridges of the distance to the background), where
    each stroke counts by its length: a blot of glare or the frame's thick side has a
    short middle line, and does not pass for the digits' strokes.
    """
    distance = cv2.distanceTransform(rows.astype(np.uint8), cv2.DIST_L2, 3)
    ridge = rows.astype(bool) & (distance >= 1.0) & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))
    inside = distance[ridge]
    if inside.size == 0:
        return 0.12 * height
    return float(max(2.0 * np.percentile(inside, 60), 0.06 * height))


def _digit_width(cells: list[Cell], height: int) -> float:
    widths = [c.right - c.left for c in cells if c.kind == "digit"]
    return float(np.median(widths)) if widths else 0.55 * height


def _cell_box(strokes: np.ndarray, cell: Cell, band: Band) -> tuple[int, int, int, int]:
    """Left, right, top and bottom of a digit: its own height when it spans the row (perspective)."""
    top, bottom = band.top, band.bottom
    own = np.flatnonzero(strokes[band.top : band.bottom, cell.left : cell.right].max(axis=1) > 0.5)
    if cell.kind != "minus" and len(own) and own[-1] - own[0] >= 0.6 * band.height:
        top, bottom = band.top + int(own[0]), band.top + int(own[-1]) + 1
    return cell.left, cell.right, top, bottom


def _segment_scores(strokes: np.ndarray, cell: Cell, band: Band, stroke: float) -> dict[str, float]:
    """Mean stroke strength along each segment's expected place in the cell."""
    left, right, top, bottom = _cell_box(strokes, cell, band)
    middle = (top + bottom) / 2
    t = stroke
    width = right - left
    half = (bottom - top) / 2
    horizontal_x = (left + 0.3 * width, right - 0.3 * width)
    upper_y = (top + t + 0.2 * (half - 1.5 * t), middle - t / 2 - 0.2 * (half - 1.5 * t))
    lower_y = (middle + t / 2 + 0.2 * (half - 1.5 * t), bottom - t - 0.2 * (half - 1.5 * t))
    return {
        "a": _horizontal(strokes, horizontal_x, top + t / 2, t),
        "g": _horizontal(strokes, horizontal_x, middle, t),
        "d": _horizontal(strokes, horizontal_x, bottom - t / 2, t),
        "f": _vertical(strokes, upper_y, left + t / 2, t),
        "b": _vertical(strokes, upper_y, right - t / 2, t),
        "e": _vertical(strokes, lower_y, left + t / 2, t),
        "c": _vertical(strokes, lower_y, right - t / 2, t),
    }


def _filled(strokes: np.ndarray, cell: Cell, band: Band, stroke: float) -> bool:
    """Whether the middles of a digit's two loops are inked: no segment passes there."""
    left, right, top, bottom = _cell_box(strokes, cell, band)
    centre = (left + right) / 2
    half_width = max(1.0, 0.25 * (right - left - 2 * stroke))
    x0, x1 = int(round(centre - half_width)), int(round(centre + half_width)) + 1
    quarter = (bottom - top) / 4
    for y in (top + quarter + stroke / 4, bottom - quarter - stroke / 4):
        y0, y1 = int(round(y - 0.05 * (bottom - top))), int(round(y + 0.05 * (bottom - top))) + 1
        window = strokes[max(0, y0) : y1, max(0, x0) : x1]
        if window.size and float(window.mean()) > 0.6:
            return True
    return False


def _horizontal(strokes: np.ndarray, x_range: tuple[float, float], y: float, t: float) -> float:
    x0, x1 = int(round(x_range[0])), max(int(round(x_range[1])), int(round(x_range[0])) + 1)
    y0, y1 = max(0, int(round(y - 0.6 * t))), min(strokes.shape[0], int(round(y + 0.6 * t)) + 1)
    window = strokes[y0:y1, max(0, x0) : x1]
    return float(window.mean(axis=1).max()) if window.size else 0.0


def _vertical(strokes: np.ndarray, y_range: tuple[float, float], x: float, t: float) -> float:
    y0, y1 = int(round(y_range[0])), max(int(round(y_range[1])), int(round(y_range[0])) + 1)
    x0, x1 = max(0, int(round(x - 0.6 * t))), min(strokes.shape[1], int(round(x + 0.6 * t)) + 1)
    window = strokes[max(0, y0) : y1, x0:x1]
    return float(window.mean(axis=0).max()) if window.size else 0.0


def _explained_share(
    ink: np.ndarray, strokes: np.ndarray, cell: Cell, band: Band, stroke: float, character: str
) -> float:
    """Share of a cell's ink that lies on the segments its character lights."""
    left, right, top, bottom = _cell_box(strokes, cell, band)
    region = ink[band.top : band.bottom, cell.left : cell.right]
    total = int(region.sum())
    if total == 0 or cell.kind == "minus":
        return 1.0
    expected = np.zeros(ink.shape, np.uint8)
    t = stroke
    xl, xr = left + t / 2, right - t / 2
    ys = {"top": top + t / 2, "middle": (top + bottom) / 2, "bottom": bottom - t / 2}
    lines = {
        "a": ((xl, ys["top"]), (xr, ys["top"])),
        "g": ((xl, ys["middle"]), (xr, ys["middle"])),
        "d": ((xl, ys["bottom"]), (xr, ys["bottom"])),
        "f": ((xl, ys["top"]), (xl, ys["middle"])),
        "b": ((xr, ys["top"]), (xr, ys["middle"])),
        "e": ((xl, ys["middle"]), (xl, ys["bottom"])),
        "c": ((xr, ys["middle"]), (xr, ys["bottom"])),
    }
    segments = next(s for s, d in DIGIT_OF_SEGMENTS.items() if d == character)
    if character in ("6", "7", "9"):  # either form: take the one the ink fits
        segments = frozenset().union(*(s for s, d in DIGIT_OF_SEGMENTS.items() if d == character))
    thickness = max(2, int(round(2.2 * t)))
    for name in segments:
        (ax, ay), (bx, by) = lines[name]
        cv2.line(expected, (int(round(ax)), int(round(ay))), (int(round(bx)), int(round(by))), 1, thickness)
    covered = int((region & expected[band.top : band.bottom, cell.left : cell.right].astype(bool)).sum())
    return covered / total


def _lit_level(scores: list[dict[str, float]], cells: list[Cell]) -> float:
    values = [v for s, c in zip(scores, cells, strict=False) if c.kind != "minus" for v in s.values()]
    return float(np.percentile(values, 85)) if values else 0.0


def _split_ratio(scores: list[dict[str, float]], cells: list[Cell], lit_level: float) -> float:
    """The stroke strength, as a share of the lit level, that parts lit from unlit segments here.

    Worn, scratched or half-reflected segments of a real LCD fall well below the lit level
    while its unlit ones stay near nothing: the widest gap between the display's segment
    strengths tells them apart better than a fixed half. Falls back to a half without a clear gap.
    """
    ratios = sorted(v / lit_level for s, c in zip(scores, cells, strict=False) if c.kind != "minus" for v in s.values())
    best_gap, split = 0.0, 0.5
    for low, high in zip(ratios, ratios[1:], strict=False):
        middle = (low + high) / 2
        if SPLIT_RANGE[0] <= middle <= SPLIT_RANGE[1] and high - low > best_gap:
            best_gap, split = high - low, middle
    return split if best_gap >= MIN_SPLIT_GAP else 0.5


def _decide_digit(scores: dict[str, float], lit_level: float, cell_count: int, split: float = 0.5) -> tuple[str, float]:
    """The digit the segment states spell, and the margin (0..1) of the least clear segment."""
    ratios = _segment_ratios(scores, lit_level)
    lit = _lit(ratios, split)
    margin = min(min(abs(ratio - split) / (split if ratio < split else 1.0 - split), 1.0) for ratio in ratios.values())
    if not lit:
        return " ", margin
    digit = DIGIT_OF_SEGMENTS.get(lit)
    if digit is not None:
        return digit, margin
    # No digit lights exactly these: the digit whose segments the strengths miss least,
    # if one segment near the split explains the miss and no other digit comes as close.
    misses = sorted(
        (sum(_miss(ratios[name], name in segments, split) for name in SEGMENT_NAMES), digit)
        for segments, digit in DIGIT_OF_SEGMENTS.items()
        if digit != "-"
    )
    (least, nearest), runner_up = misses[0], next(miss for miss, other in misses if other != misses[0][1])
    if least > MAX_REPAIRED_MISS or runner_up - least < MIN_REPAIR_LEAD:
        shown = "".join(sorted(lit)) or "none"
        raise Implausible(f"implausible reading: lit segments {shown!r} are not a digit", cell_count)
    # A negative margin marks a digit read as the nearest one, not spelled out.
    return nearest, -REPAIRED_MARGIN * min(1.0, (runner_up - least) / (2 * MIN_REPAIR_LEAD))


def _miss(ratio: float, lit: bool, split: float) -> float:
    """How far a segment's strength is on the wrong side of the split, 0 on the right side, 1 far off."""
    if lit:
        return max(0.0, split - ratio) / split
    return min(1.0, max(0.0, ratio - split) / (1.0 - split))


def _apply_options(text: str, cells: int, options: DisplayOptions, penalty: float) -> tuple[str, float]:
    if options.digits is not None and cells > options.digits:
        raise Implausible(
            f"implausible reading: {cells} digit cells seen, the calibration says {options.digits}", cells
        )
    if options.decimals is not None:
        shown = len(text) - text.index(".") - 1 if "." in text else 0
        if "." not in text and options.decimals > 0:
            digits = text.lstrip("-")
            if len(digits) <= options.decimals:
                # A display that shows decimals shows a digit before them (0.05, not 5): this
                # is a piece of the number, its leading digits lost.
                raise Implausible(
                    f"implausible reading: {text!r} has no digit before the {options.decimals} decimals"
                    " the calibration gives",
                    cells,
                )
            sign = text[: len(text) - len(digits)]
            text = sign + digits[: -options.decimals] + "." + digits[-options.decimals :]
        elif shown != options.decimals:
            raise Implausible(
                f"implausible reading: {text!r} shows {shown} decimals, the calibration says {options.decimals}", cells
            )
    return text, penalty
