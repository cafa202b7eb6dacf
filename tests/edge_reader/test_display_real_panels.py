"""The display reader on panels as phone photos show them: a dark frame round the glass,
the panel cut short by the photo, faint unlit segments, worn segments."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge_reader import display
from edge_reader.display import (
    Band,
    Cell,
    DigitMark,
    DisplayOptions,
    PanelReading,
    _backed_by_other_views,
    _cells,
    _contradicted,
    _cut_sides,
    _decide_digit,
    _digit_row_candidates,
    _frame_mark,
    _grown_quad,
    _has_rival,
    _ink_mask,
    _keep_the_lit_point,
    _mark_decimal_points,
    _piece_of_longer_reading,
    _point_contradicted,
    _read_panel,
    _read_row,
    _row_cut_by_photo,
    _rows,
    _seen_to_go_on,
    _split_ratio,
    _three_bar_band,
    _with_rim_in_band,
    _with_trailing_digits,
    read_display,
)
from edge_reader.result import ReadError
from edge_reader.synthetic_display import Camera, DisplayStyle, draw_display, draw_panel
from tests.edge_reader.helpers import paint_segments

PUMP = DisplayStyle(
    positions=5, lcd=True, panel=(150, 185, 165), segment=(40, 45, 40), housing=(230, 230, 230), ghost=0.12, frame=0.08
)


@pytest.mark.parametrize("text", ["58.78", "42.02", "113.0"])
@pytest.mark.parametrize(
    "camera",
    [
        Camera(size=(1280, 720), panel_width=1.04, center=(0.5, 0.4)),  # the panel runs off both sides
        Camera(size=(1280, 720), panel_width=0.7, blur=0.03, noise=4.0, jpeg_quality=70),
    ],
    ids=["cut by the frame", "framed, blurred"],
)
def test_a_framed_lcd_with_faint_unlit_segments_reads(text, camera):
    drawn = draw_display(text, PUMP, camera)
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == text
    assert reading.confidence >= 0.5


def test_an_roi_that_takes_in_the_panels_frame_reads_the_digits_only():
    drawn = draw_display("42.02", PUMP, Camera(size=(1280, 720), panel_width=0.7))
    x, y, w, h = drawn.panel_roi
    reading = read_display(drawn.image, {"kind": "seven_segment", "roi": [x - 6, y - 6, w + 12, h + 12]})
    assert reading.details["text"] == "42.02"


def test_worn_segments_are_parted_from_unlit_ones_at_the_widest_gap():
    # Lit segments from 0.45 (scratched, half in a reflection) to 1; unlit ones near nothing.
    scores = [
        {"a": 0.95, "b": 0.9, "c": 0.47, "d": 0.9, "e": 0.05, "f": 0.1, "g": 0.92},  # a 3 with a worn c
        {"a": 0.9, "b": 0.85, "c": 0.9, "d": 0.88, "e": 0.9, "f": 0.93, "g": 0.08},  # a 0
    ]
    cells = [Cell(0, 10, "digit"), Cell(20, 30, "digit")]
    split = _split_ratio(scores, cells, lit_level=0.95)
    assert 0.15 < split < 0.45
    digit, margin = _decide_digit(scores[0], 0.95, 2, split)
    assert (digit, margin >= 0) == ("3", True)
    # A fixed half would have left the worn segment unlit: no digit spells that, and
    # the 3 is only the nearest digit (a negative margin says so).
    digit, margin = _decide_digit(scores[0], 0.95, 2, 0.5)
    assert (digit, margin < 0) == ("3", True)


def test_a_pattern_near_two_digits_alike_is_no_digit():
    # 'abdg' lacks c for a 3 and e for a 2: with both equally doubtful, neither is read.
    scores = {"a": 0.9, "b": 0.9, "c": 0.4, "d": 0.9, "e": 0.4, "f": 0.05, "g": 0.9}
    with pytest.raises(ReadError, match="not a digit"):
        _decide_digit(scores, 0.95, 2, 0.5)


def test_a_clear_letter_is_never_read_as_its_nearest_digit():
    clear = {"a": 0.05, "b": 0.95, "c": 0.95, "d": 0.05, "e": 0.95, "f": 0.95, "g": 0.95}  # an H
    with pytest.raises(ReadError, match="not a digit"):
        _decide_digit(clear, 0.95, 2, 0.5)


def test_of_several_decimal_points_the_clearly_strongest_is_the_lit_one():
    cells = [Cell(0, 10, "digit", True, 0.45), Cell(20, 30, "digit", True, 0.95), Cell(40, 50, "digit", True, 0.4)]
    assert _keep_the_lit_point(cells)
    assert [cell.point for cell in cells] == [False, True, False]
    # Two points alike: the display shows two, and the reading is refused for it.
    alike = [Cell(0, 10, "digit", True, 0.9), Cell(20, 30, "digit", True, 0.85)]
    assert not _keep_the_lit_point(alike)
    assert [cell.point for cell in alike] == [True, True]


def _eights(height: int, width: int, top: int, bottom: int) -> np.ndarray:
    """Ink of three 8s from row `top` to `bottom`, strokes 8 pixels thick."""
    ink = np.zeros((height, width), bool)
    middle = (top + bottom) // 2 - 4
    for left in (40, 140, 240):
        ink[top:bottom, left : left + 8] = True
        ink[top:bottom, left + 52 : left + 60] = True
        for row in (top, middle, bottom - 8):
            ink[row : row + 8, left : left + 60] = True
    return ink


def test_the_digit_row_runs_from_the_top_bars_to_the_bottom_bars():
    ink = _eights(160, 400, 30, 130)
    ink[:, 380:386] = True  # the frame's side, through every row
    ink[5:12, 20:60] = True  # a speck of glare above the row
    band = _three_bar_band(ink)
    assert band is not None and abs(band.top - 30) <= 2 and abs(band.bottom - 130) <= 2
    assert _three_bar_band(ink[:, 370:]) is None  # no bars: no row
    without_middle = ink.copy()
    without_middle[76:84] = False
    assert _three_bar_band(without_middle) is None  # two levels of bars are no digit row


def test_the_digit_row_is_the_three_bars_with_the_middle_one_halfway():
    # 44.00 with glare speckled along the glass's top edge, touching the digits: its
    # band of ink outdoes the two top bars the 0s have (a 4 has none), and with the
    # middle bars it makes a triple too, one whose middle bar is off its middle.
    strokes = np.zeros((160, 500), np.float32)
    for left, segments in ((60, "bcfg"), (160, "bcfg"), (260, "abcdef"), (360, "abcdef")):
        paint_segments(strokes, segments, left=left, top=30, bottom=130, width=60, thick=10)
    strokes[12:20, 100:340] = 1.0
    strokes[20:30, 100:340:12] = 1.0  # specks joining the glare to the digits
    band = _three_bar_band(strokes > 0.5)
    assert band is not None and abs(band.top - 30) <= 3 and abs(band.bottom - 130) <= 3


def test_digits_that_touch_a_tight_panels_edge_are_kept_and_the_frame_is_not():
    strokes = _eights(100, 400, 0, 100).astype(np.float32)  # the digits fill the panel
    strokes[:, 392:] = 1.0  # the frame's side
    ink, cut, rim = _ink_mask(strokes)
    assert not ink.any()  # everything touches an edge
    band = _three_bar_band(ink | rim)
    assert band is not None and band.height >= 95
    kept = _with_rim_in_band(ink, rim, band)
    assert kept[:, :300].sum() == _eights(100, 400, 0, 100)[:, :300].sum()
    assert not kept[:, 392:].any() and cut  # the side that runs off is no digit


def test_a_number_read_elsewhere_in_the_photo_makes_the_best_reading_doubtful():
    panel = PanelReading("112.07", 0.6, 5, quad=((0, 0), (500, 0), (500, 120), (0, 120)))
    inside = PanelReading("12.07", 0.4, 4, quad=((100, 10), (500, 10), (500, 110), (100, 110)))
    words = PanelReading("81", 0.7, 2, quad=((180, 240), (300, 240), (300, 280), (180, 280)))
    assert _has_rival(words, [panel, inside, words])
    assert not _has_rival(panel, [panel, inside])  # the same display, seen in part
    assert not _has_rival(panel, [panel, replace(words, confidence=0.2)])  # far less sure


def _stored(image: np.ndarray) -> str | None:
    """The text the server would store for the photo at its default threshold (0.5), or
    None when it would refuse it."""
    try:
        reading = read_display(image, {"kind": "seven_segment"})
    except ReadError:
        return None
    return reading.details["text"] if reading.confidence >= 0.5 else None


def test_printed_words_under_a_panel_are_not_read_as_a_confident_number():
    style = replace(PUMP, positions=4)
    drawn = draw_display("12.07", style, Camera(size=(1280, 720), panel_width=0.9, center=(0.5, 0.35)))
    image = drawn.image.copy()
    cv2.putText(image, "LITRES", (420, 640), cv2.FONT_HERSHEY_DUPLEX, 3.0, (30, 30, 30), 9)
    assert _stored(image) in (None, "12.07")


def test_without_a_clear_gap_the_split_is_half_the_lit_level():
    scores = [{name: value for name, value in zip("abcdefg", np.linspace(0.3, 0.9, 7), strict=True)}]
    assert _split_ratio(scores, [Cell(0, 10, "digit")], lit_level=1.0) == 0.5


def test_a_bar_running_past_the_digit_row_is_the_panels_frame():
    ink = np.zeros((100, 200), bool)
    band = Band(20, 80)
    ink[5:95, 180:186] = True  # taller than the digits
    ink[20:80, 100:106] = True  # a 1: as tall as the digits
    assert _frame_mark(Cell(180, 186, "one"), ink, band)
    assert not _frame_mark(Cell(100, 106, "one"), ink, band)
    assert not _frame_mark(Cell(0, 70, "digit"), ink, band)  # too wide: two digits run together, not a frame


def test_a_solid_bar_as_wide_as_a_digit_running_past_the_row_is_the_panels_frame():
    ink = np.zeros((100, 300), bool)
    band = Band(20, 80)
    ink[8:92, 250:280] = True  # the frame with its shadow: solid, and past the digits
    ink[20:80, 150:180] = True  # as solid, but no taller than the digits
    assert _frame_mark(Cell(250, 280, "digit"), ink, band)
    assert not _frame_mark(Cell(150, 180, "digit"), ink, band)


def test_a_row_ending_at_a_solid_frame_bar_reads_its_digits():
    strokes = np.zeros((140, 400), np.float32)
    _paint_digit(strokes, "abdeg", 150)
    _paint_digit(strokes, "acdfg", 250)
    strokes[8:132, 345:380] = 1.0  # the panel's dark frame, running past the row
    reading = _read_row(strokes, strokes > 0.85, Band(20, 120), DisplayOptions())
    assert reading.text == "25"


def _panel_lost_in_a_shadow(text: str) -> tuple[np.ndarray, np.ndarray]:
    """A dark LCD on a light housing that the photo cuts short, a shadow as dark as the
    panel run into its lower left corner, and a bold word printed under it: the panel's
    outline is no rectangle, and the whole frame holds the word as well as the digits."""
    style = DisplayStyle(
        positions=5, lcd=True, panel=(70, 80, 75), segment=(25, 28, 25), housing=(225, 225, 225), ghost=0.08
    )
    drawn = draw_display(text, style, Camera(size=(1280, 720), panel_width=0.6, center=(0.35, 0.4), noise=3.0))
    image = drawn.image.copy()
    (left, top), _, (right, bottom), _ = drawn.panel_quad
    middle = (top + bottom) / 2
    shadow = np.array(
        [[0, middle], [left + 0.3 * (right - left), middle], [left + 0.2 * (right - left), bottom + 40], [0, 720]],
        np.int32,
    )
    cv2.fillPoly(image, [shadow], (70, 80, 75))
    word_at = (int(left + 0.25 * (right - left)), int(bottom + 110))
    cv2.putText(image, "LITRES", word_at, cv2.FONT_HERSHEY_SIMPLEX, 3.0, (20, 20, 20), 14)
    return image, drawn.panel_quad


def test_rows_of_digit_sized_marks_are_boxed_on_the_panel():
    image, panel = _panel_lost_in_a_shadow("142.0")
    work = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (640, 360), interpolation=cv2.INTER_AREA)
    (left, top), (right, bottom) = panel.min(axis=0) / 2, panel.max(axis=0) / 2

    def on_the_panel(quad: np.ndarray) -> bool:
        (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
        shared = max(0.0, min(x1, right) - max(x0, left)) * max(0.0, min(y1, bottom) - max(y0, top))
        return shared >= 0.9 * (x1 - x0) * (y1 - y0) and y1 - y0 >= 0.5 * (bottom - top)

    rows = _digit_row_candidates(work)
    assert rows and on_the_panel(rows[0])


def test_a_row_takes_in_the_broken_parts_near_its_ends_and_nothing_else():
    digits = [(100, 50, 20, 40), (130, 50, 20, 40), (160, 52, 20, 38)]  # three digits in a row
    faint_segment = (195, 70, 4, 15)  # within the row's rows, a gap after its end
    small_decimal = (205, 65, 12, 26)  # just after the faint segment
    far = (400, 60, 10, 20)  # well past the row
    above = (130, 5, 20, 10)  # over the row, not in it
    lone = [(600, 200, 20, 40)]  # one digit-sized mark: no row
    rows = _rows(digits + lone, digits + lone + [faint_segment, small_decimal, far, above])
    assert len(rows) == 1
    row, tall = rows[0]
    assert tall == 40
    assert set(row) == {*digits, faint_segment, small_decimal}


def test_no_rows_where_there_are_no_digit_sized_marks():
    flat = np.full((360, 640), 128, np.uint8)
    cv2.line(flat, (50, 300), (600, 300), 20, 3)  # a cable: one long mark, no row of marks
    assert _digit_row_candidates(flat) == []


@pytest.mark.parametrize("text", ["142.0", "61.00", "7.05"])
def test_a_panel_whose_outline_a_shadow_runs_into_is_found_by_its_digit_row(text):
    image, _ = _panel_lost_in_a_shadow(text)
    reading = read_display(image, {"kind": "seven_segment"})
    assert reading.details["text"] == text
    assert reading.confidence >= 0.9


def test_a_reading_within_a_view_that_reads_more_whole_digits_is_a_piece():
    whole = PanelReading("148.00", 0.35, 5, quad=((0, 60), (500, 60), (500, 190), (0, 190)))
    piece = PanelReading("48.00", 0.7, 4, quad=((90, 65), (490, 65), (490, 185), (90, 185)))
    assert _piece_of_longer_reading(piece, [whole, piece])
    # Stray marks after the number add no whole digits: the same number, seen whole.
    trailing = replace(whole, text="48.007")
    assert not _piece_of_longer_reading(piece, [trailing, piece])
    # A far less sure longer reading (a speck read as a leading digit) is no evidence.
    assert not _piece_of_longer_reading(piece, [replace(whole, confidence=0.1), piece])
    # A longer reading that does not end in the piece's digits is another reading, not its whole.
    assert not _piece_of_longer_reading(piece, [replace(whole, text="477"), piece])


WHOLE_PHOTO = ((0, 0), (2048, 0), (2048, 1152), (0, 1152))


def test_a_view_that_reads_on_past_the_last_digit_is_taken():
    # The whole photo at a coarse scale lost the pump's last decimal; the panel read it.
    coarse = PanelReading("68.0", 0.88, 3, quad=WHOLE_PHOTO)
    panel = PanelReading("68.00", 0.63, 4, quad=((0, 80), (1940, 130), (1890, 740), (0, 790)))
    assert _with_trailing_digits(coarse, [panel, coarse], WHOLE_PHOTO) == panel
    # Views that read the same digits, or another number, or far less surely, leave the best as it is.
    for other in (replace(panel, text="68.0"), replace(panel, text="58.00"), replace(panel, confidence=0.2)):
        assert _with_trailing_digits(coarse, [other, coarse], WHOLE_PHOTO) == coarse


def test_digits_the_whole_photo_reads_past_the_panels_are_clutter():
    panel = PanelReading("64.97", 0.83, 4, quad=((180, 40), (760, 40), (770, 240), (180, 240)))
    coarse = PanelReading("64.9788", 0.43, 6, quad=WHOLE_PHOTO)
    assert _with_trailing_digits(panel, [panel, coarse], WHOLE_PHOTO) == panel


def test_a_lone_digit_is_not_grown_by_a_mark_read_after_it():
    lone = PanelReading("9", 0.45, 1, quad=((340, 350), (1200, 300), (1220, 640), (350, 680)))
    pair = PanelReading("91", 0.55, 2, quad=((30, 30), (1278, 0), (1278, 718), (350, 690)))
    assert _with_trailing_digits(lone, [lone, pair], WHOLE_PHOTO) == lone


def test_a_reading_within_a_view_that_reads_it_with_a_minus_sign_is_a_piece():
    signed = PanelReading("-3.2", 0.4, 2, quad=((0, 60), (500, 60), (500, 190), (0, 190)))
    unsigned = PanelReading("3.2", 0.65, 2, quad=((250, 65), (450, 65), (450, 185), (250, 185)))
    assert _piece_of_longer_reading(unsigned, [signed, unsigned])
    # Another number with a sign is no whole of this one.
    assert not _piece_of_longer_reading(unsigned, [replace(signed, text="-8.2"), unsigned])


def test_a_negative_value_is_never_stored_without_its_sign():
    # A lit LED panel in a housing as dark as itself, run off the photo's left edge: a
    # region round the digits alone reads 3.2 surer than the panel, cut short, reads -3.2.
    style = DisplayStyle(
        positions=5, lcd=False, panel=(20, 20, 20), segment=(40, 40, 255), housing=(20, 20, 20), ghost=0.05, glow=0.03
    )
    drawn = draw_display(
        "-3.2", style, Camera(size=(1280, 720), panel_width=0.6, center=(0.3, 0.45), noise=4.0, jpeg_quality=75)
    )
    assert _stored(drawn.image) in (None, "-3.2")


def _digits_at(*lefts: float) -> tuple[DigitMark, ...]:
    """Digit marks 70 pixels wide at these left edges, rows 100 to 200."""
    return tuple(
        DigitMark("8", "abcdefg", ((left, 100.0), (left + 70, 100.0), (left + 70, 200.0), (left, 200.0)))
        for left in lefts
    )


def test_a_digit_cut_off_by_the_photos_right_edge_is_told_from_an_edge_grazing_the_last():
    quad = ((500.0, 80.0), (1280.0, 80.0), (1280.0, 220.0), (500.0, 220.0))  # the photo cuts it at the right
    digits = _digits_at(920, 1020, 1120)  # pitch 100, 30 between digits; the last ends at 1190
    cut = PanelReading("888", 0.8, 3, quad=quad, digits=digits, grow=(0.0, 0.0, 1.5, 0.0))
    shape = (720, 1280, 3)
    assert _row_cut_by_photo(cut, shape)  # 90 past the last digit: a digit's ink cut off there
    grazing = replace(cut, digits=_digits_at(1000, 1100, 1200))  # the edge 10 past the last digit
    assert not _row_cut_by_photo(grazing, shape)
    assert not _row_cut_by_photo(replace(cut, grow=(0.0, 0.0, 0.0, 0.0)), shape)  # nothing cut at its side
    inside = replace(cut, quad=((500.0, 80.0), (1200.0, 80.0), (1200.0, 220.0), (500.0, 220.0)))
    assert not _row_cut_by_photo(inside, shape)  # within the photo: grown past the cut, it reads on


def test_a_number_whose_last_digit_the_photo_cuts_off_is_not_stored():
    style = DisplayStyle(
        positions=5, lcd=False, panel=(25, 25, 25), segment=(60, 230, 80), housing=(90, 90, 90), ghost=0.05
    )
    camera = Camera(size=(1280, 720), panel_width=0.8, center=(0.75, 0.45), noise=4.0, jpeg_quality=75)
    drawn = draw_display("142.0", style, camera)  # the photo's edge runs through the last 0
    assert _stored(drawn.image) in (None, "142.0")


def test_the_point_after_a_1_that_stops_short_of_the_baseline_is_found():
    ink = np.zeros((120, 300), bool)
    band = Band(10, 110)
    ink[15:85, 90:100] = True  # a lit 1, short of the row
    for left in (150, 230):  # two 0s down to the baseline
        ink[10:110, left : left + 10] = True
        ink[10:110, left + 50 : left + 60] = True
        ink[10:20, left : left + 60] = True
        ink[100:110, left : left + 60] = True
    ink[101:110, 113:124] = True  # the point, on the baseline after the 1
    cells = [Cell(90, 100, "one"), Cell(150, 210, "digit"), Cell(230, 290, "digit")]
    _mark_decimal_points(ink, cells, band, stroke=10.0)
    assert [cell.point for cell in cells] == [True, False, False]


def test_the_same_number_read_in_another_view_of_the_photo_raises_the_confidence():
    panel = PanelReading("58.00", 0.4, 4, quad=((40, 140), (500, 140), (500, 260), (40, 260)))
    frame = PanelReading("58.00", 0.36, 4, quad=((0, 0), (640, 0), (640, 480), (0, 480)))
    backed = _backed_by_other_views(panel, [panel, frame])
    assert backed == pytest.approx(0.4 + 0.6 * 0.36 * 0.5)
    assert 0.5 <= backed < 1.0
    assert _backed_by_other_views(panel, [panel]) == 0.4  # one view alone
    assert _backed_by_other_views(panel, [panel, replace(frame, text="56.00")]) == 0.4  # views that differ
    assert _backed_by_other_views(panel, [panel, replace(frame, confidence=0.1)]) == 0.4  # far less sure
    assert _backed_by_other_views(panel, [panel, replace(frame, quad=panel.quad)]) == 0.4  # the same view


def test_views_agreeing_on_a_piece_of_a_number_do_not_back_it():
    quads = (((40, 140), (500, 140), (500, 260), (40, 260)), ((0, 0), (640, 0), (640, 480), (0, 480)))
    for text in ("8.00", "597", "08.0"):  # a digit cut off, the point missed, a leading digit missed
        views = [PanelReading(text, 0.45, 3, quad=quad) for quad in quads]
        assert _backed_by_other_views(views[0], views) == 0.45


def test_marks_on_the_glass_beside_the_digit_row_cost_nothing_and_among_the_digits_do():
    eights = np.roll(_eights(160, 700, 30, 130), 250, axis=1)  # three 8s from column 290 on
    band = Band(30, 130)
    beside = eights.copy()
    beside[35:60, 20:32] = True  # a smudge two digits' places before the first digit
    cells, penalty = _cells(beside, band)
    assert len(cells) == 3 and penalty == 1.0
    among = eights.copy()
    among[35:60, 364:376] = True  # the same smudge between two digits
    cells, penalty = _cells(among, band)
    assert len(cells) == 3 and penalty < 1.0


def test_dirt_on_the_glass_beside_the_number_leaves_the_reading_as_sure():
    clean = draw_display("7.25", PUMP, Camera(size=(1280, 720), panel_width=0.7))
    # Dark marks in the blank positions before the number: dirt, scratches, a reflection's edge.
    dirty = replace(PUMP, smudges=((0.04, 0.25, 0.05, 0.12), (0.14, 0.3, 0.03, 0.1), (0.06, 0.72, 0.06, 0.08)))
    drawn = draw_display("7.25", dirty, Camera(size=(1280, 720), panel_width=0.7))
    assert not np.array_equal(drawn.image, clean.image)
    expected = read_display(clean.image, {"kind": "seven_segment"})
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == "7.25"
    assert reading.confidence >= expected.confidence - 0.05


@pytest.mark.parametrize("text", ["109.76", "58.78", "250.4"])
def test_a_shadow_along_the_panels_bottom_edge_is_not_taken_for_the_digits_bottom_bars(text):
    # The bevel's shadow lies along the glass's bottom edge, darker in stretches, and the
    # digits' lower halves are paler (glare, the bevel's shade): the shadow's bars outdo
    # the digits' bottom bars, but no vertical segment joins them to the middle bars.
    style = DisplayStyle(positions=5, bottom_shadow=0.15, fade_down=0.5, housing_margin=0.3, housing=(190, 195, 195))
    drawn = draw_display(text, style, Camera(size=(1280, 720), panel_width=0.6, noise=2.0, jpeg_quality=85))
    x, y, w, h = drawn.panel_roi
    reading = read_display(drawn.image, {"kind": "seven_segment", "roi": [x, y, w, h + 3]})
    assert reading.details["text"] == text
    assert reading.confidence >= 0.5


@pytest.mark.parametrize("text", ["109.76", "58.78", "7.25"])
@pytest.mark.parametrize(
    "camera",
    [Camera(size=(1280, 720), panel_width=0.7), Camera(size=(1280, 720), panel_width=0.7, blur=0.03, noise=4.0)],
    ids=["sharp", "blurred"],
)
def test_a_red_decimal_point_on_a_grey_lcd_is_read(text, camera):
    # Pumps print the point red: in the brightest channel it is as light as the panel,
    # and the number read without it is a hundred times too large.
    drawn = draw_display(text, replace(PUMP, point_colour=(50, 40, 175)), camera)
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == text
    assert reading.confidence >= 0.5


def _paint_digit(strokes: np.ndarray, segments: str, left: int, width: int = 60, value: float = 1.0) -> None:
    """Segments 10 pixels thick in a digit from row 20 to row 120."""
    paint_segments(strokes, segments, left=left, top=20, bottom=120, width=width, thick=10, level=value)


def _row_after(mark) -> tuple[np.ndarray, np.ndarray]:
    """Strokes and ink of a 6 and a 0, with `mark` drawn before them."""
    strokes = np.zeros((140, 400), np.float32)
    mark(strokes)
    _paint_digit(strokes, "acdefg", 150)
    _paint_digit(strokes, "abcdef", 250)
    return strokes, strokes > 0.85


def test_a_dash_with_a_bar_over_it_before_the_number_is_no_minus_sign():
    minus, _ = _row_after(lambda strokes: _paint_digit(strokes, "g", 75, width=35))
    assert _read_row(minus, minus > 0.85, Band(20, 120), DisplayOptions()).text == "-60"

    def reflection(strokes):  # a reflection's edges: a dash, and a fainter bar where a top bar goes
        _paint_digit(strokes, "g", 75, width=35)
        _paint_digit(strokes, "a", 75, width=35, value=0.7)

    strokes, ink = _row_after(reflection)
    reading = _read_row(strokes, ink, Band(20, 120), DisplayOptions())
    assert reading.text == "60" and reading.confidence < 1.0


def test_a_bar_at_the_rows_end_read_as_a_wide_digit_is_the_panels_edge():
    # The panel's dark edge, a bar as tall as the digits, two blank positions before
    # them: a digit's box placed over it finds every segment lit, an 8.
    strokes = np.zeros((140, 400), np.float32)
    strokes[20:120, 0:10] = 1.0
    _paint_digit(strokes, "abdeg", 150)
    _paint_digit(strokes, "acdfg", 250)
    reading = _read_row(strokes, strokes > 0.85, Band(20, 120), DisplayOptions())
    assert reading.text == "25" and reading.confidence < 1.0


def _flat_panel(text: str) -> np.ndarray:
    """The panel of a display drawn flat, in grey, at the reader's panel height."""
    face, corners = draw_panel(text, DisplayStyle(positions=5))
    (x0, y0), (x1, y1) = corners[0].astype(int), corners[2].astype(int)
    grey = cv2.cvtColor(face.astype(np.uint8), cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1]
    return cv2.resize(grey, (round(grey.shape[1] * 160 / grey.shape[0]), 160))


def test_the_darkest_channel_adds_a_point_to_the_same_digits_but_no_digits():
    # The darkest channel sees coloured marks the brightest does not: a red point is
    # welcome, a coloured housing or print beside the row read as a digit is not.
    options = DisplayOptions()
    assert _read_panel(_flat_panel("10976"), lambda: _flat_panel("109.76"), options).text == "109.76"
    lone = _read_panel(_flat_panel("4"), lambda: _flat_panel("84"), options)
    assert lone.text == "4"
    assert _read_panel(_flat_panel("12"), lambda: _flat_panel("12.5"), options).text == "12"


@pytest.mark.parametrize("text", ["58.78", "142.02"])
def test_a_candidate_that_cuts_the_digit_row_is_read_again_grown_past_the_cut(text, monkeypatch):
    # A reflection's edge or the glass's inner frame can make a candidate of part of the
    # panel, cutting through a digit: read alone, it gives the digits right of the cut.
    drawn = draw_display(text, PUMP, Camera(size=(1280, 720), panel_width=0.6))
    x, y, w, h = drawn.panel_roi

    def a_piece_of_the_panel(work: np.ndarray, _colour: np.ndarray) -> list[np.ndarray]:
        height, width = work.shape
        scale = width / 1280
        piece = np.array([[x + 0.45 * w, y], [x + w, y], [x + w, y + h], [x + 0.45 * w, y + h]], np.float32)
        whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        return [piece * scale, whole]

    monkeypatch.setattr(display, "_panel_candidates", a_piece_of_the_panel)
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == text
    assert reading.confidence >= 0.5


def test_the_sides_a_candidate_cuts_the_row_at_are_those_with_digit_high_marks():
    band = Band(20, 120)
    assert _cut_sides([(25, 70, "left"), (75, 118, "left")], band) == {"left"}  # a digit's two halves
    assert _cut_sides([(22, 118, "left"), (20, 119, "right")], band) == {"left", "right"}
    assert _cut_sides([(60, 70, "right")], band) == set()  # a speck, not a digit
    assert _cut_sides([(0, 160, "left")], band) == set()  # far taller than the row: the panel's frame


def test_a_grown_candidate_follows_its_own_sides_and_stays_in_the_frame():
    quad = np.array([[100, 100], [300, 110], [300, 160], [100, 150]], np.float32)  # leaning down to the right
    # The panel read from it is 160 rows high: one panel height is about 50 pixels here.
    grown = _grown_quad(quad, (160, 640), (1.0, 0.0, 0.0, 0.0), (400, 600))
    assert grown is not None
    assert grown[0, 0] == pytest.approx(50, abs=3) and grown[0, 1] == pytest.approx(97.5, abs=1.5)  # along the top
    assert np.allclose(grown[1:3], quad[1:3])  # the right side stays
    at_edge = _grown_quad(quad, (160, 640), (4.0, 0.0, 0.0, 0.0), (400, 600))
    assert at_edge is not None and at_edge[:, 0].min() == 0  # cut at the frame
    assert _grown_quad(quad, (160, 640), (0.0, 0.0, 0.0, 0.0), (400, 600)) is None


def test_the_panel_cut_short_by_the_photo_wins_over_the_whole_frames_piece_of_it(monkeypatch):
    # A panel that runs off the photo's edge is a candidate only as a region the frame
    # cuts short; the whole frame, read at its coarse scale, loses the digit nearest the
    # edge. The whole frame is no panel seen whole either, so the longer reading wins.
    image = np.full((720, 1280, 3), 128, np.uint8)

    def a_panel_off_the_edge(work: np.ndarray, _colour: np.ndarray) -> list[np.ndarray]:
        height, width = work.shape
        off_the_edge = np.array(
            [[0, 0.3 * height], [0.8 * width, 0.3 * height], [0.8 * width, 0.7 * height], [0, 0.7 * height]], np.float32
        )
        whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        return [off_the_edge, whole]

    views = iter([PanelReading("195.6", 0.68, 4), PanelReading("95.6", 0.54, 3)])
    monkeypatch.setattr(display, "_panel_candidates", a_panel_off_the_edge)
    monkeypatch.setattr(display, "_read_panel", lambda *_args: next(views))
    reading = read_display(image, {"kind": "seven_segment"})
    assert reading.details["text"] == "195.6"
    assert reading.confidence == pytest.approx(0.68 * display.CUT_SHORT_PENALTY, abs=0.01)


def test_a_candidate_that_cuts_a_digit_into_no_digit_is_read_again_grown_past_the_cut(monkeypatch):
    # Cut through a digit, a candidate can spell nothing: the digit's piece is no digit.
    # That is no sign the display is implausible; the candidate is read again grown out.
    text = "142.02"
    drawn = draw_display(text, PUMP, Camera(size=(1280, 720), panel_width=0.6))
    x, y, w, h = drawn.panel_roi

    def a_piece_of_the_panel(work: np.ndarray, _colour: np.ndarray) -> list[np.ndarray]:
        height, width = work.shape
        scale = width / 1280
        piece = np.array([[x, y], [x + 0.6 * w, y], [x + 0.6 * w, y + h], [x, y + h]], np.float32)
        whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        return [piece * scale, whole]

    read_panel = display._read_panel
    calls = []

    def the_piece_spells_nothing(panel, dark_panel, options):
        calls.append(panel.shape)
        if len(calls) == 1:
            cut = display.Implausible("implausible reading: lit segments 'bc' and 'af' are not a digit", 4)
            cut.grow = (0.0, 0.0, 0.5 * w / h, 0.0)  # past the rest of the panel, in panel heights
            raise cut
        return read_panel(panel, dark_panel, options)

    monkeypatch.setattr(display, "_panel_candidates", a_piece_of_the_panel)
    monkeypatch.setattr(display, "_read_panel", the_piece_spells_nothing)
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == text
    assert len(calls) >= 2 and calls[1][1] > calls[0][1]  # the next view read is the piece grown wider


def test_a_view_of_the_same_place_reading_another_number_doubts_the_best():
    here = ((100.0, 100.0), (500.0, 100.0), (500.0, 200.0), (100.0, 200.0))
    nearly_here = ((90.0, 95.0), (520.0, 95.0), (520.0, 210.0), (90.0, 210.0))
    elsewhere = ((600.0, 400.0), (900.0, 400.0), (900.0, 500.0), (600.0, 500.0))
    best = PanelReading("297.00", 0.74, 5, quad=here)
    other = PanelReading("283.00", 0.33, 5, quad=nearly_here)
    assert _contradicted(best, [best, other])
    assert not _contradicted(best, [best, replace(other, confidence=0.2)])  # too unsure to count
    assert not _contradicted(best, [best, replace(other, quad=elsewhere)])  # another object: a rival, not this
    # A piece of the number, or the number with its point missed, is no other number.
    assert not _contradicted(best, [best, replace(other, text="97.00"), replace(other, text="29700")])
    # A third view that reads the best's number more surely than the other outvotes it.
    third = PanelReading("297.00", 0.5, 5, quad=((95.0, 98.0), (510.0, 98.0), (510.0, 205.0), (95.0, 205.0)))
    assert not _contradicted(best, [best, other, third])


def test_a_view_of_the_same_place_with_the_point_after_another_digit_doubts_the_best():
    here = ((100.0, 100.0), (500.0, 100.0), (500.0, 200.0), (100.0, 200.0))
    nearly_here = ((90.0, 95.0), (520.0, 95.0), (520.0, 210.0), (90.0, 210.0))
    elsewhere = ((600.0, 400.0), (900.0, 400.0), (900.0, 500.0), (600.0, 500.0))
    best = PanelReading("320.0", 0.61, 4, quad=here)
    other = PanelReading("32.00", 0.56, 4, quad=nearly_here)
    assert _point_contradicted(best, [best, other])
    assert not _point_contradicted(best, [best, replace(other, confidence=0.2)])  # too unsure to count
    assert not _point_contradicted(best, [best, replace(other, quad=elsewhere)])
    # The point missed, or the same number read again, says nothing against where it stands.
    assert not _point_contradicted(best, [best, replace(other, text="3200"), replace(other, text="320.0")])
    # A third view that reads the best's number more surely outvotes the other.
    third = replace(best, confidence=0.58, quad=((95.0, 98.0), (510.0, 98.0), (510.0, 205.0), (95.0, 205.0)))
    assert not _point_contradicted(best, [best, other, third])


def test_two_views_of_the_panel_that_read_different_numbers_are_refused(monkeypatch):
    image = np.full((720, 1280, 3), 128, np.uint8)

    def two_views_of_one_panel(work: np.ndarray, _colour: np.ndarray) -> list[np.ndarray]:
        height, width = work.shape
        box = np.array([[0.2, 0.3], [0.8, 0.3], [0.8, 0.6], [0.2, 0.6]], np.float32) * (width, height)
        wider = np.array([[0.18, 0.28], [0.82, 0.28], [0.82, 0.62], [0.18, 0.62]], np.float32) * (width, height)
        whole = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
        return [box, wider, whole]

    views = iter([PanelReading("297.00", 0.6, 5), PanelReading("283.00", 0.45, 5)])

    def read_panel(*_args: object) -> PanelReading:
        reading = next(views, None)
        if reading is None:
            raise ReadError("no strokes on the panel")
        return reading

    monkeypatch.setattr(display, "_panel_candidates", two_views_of_one_panel)
    monkeypatch.setattr(display, "_read_panel", read_panel)
    with pytest.raises(ReadError, match="no seven-segment display found"):
        read_display(image, {"kind": "seven_segment"})


def _row_2820() -> np.ndarray:
    """A stroke map with 2820 painted on a pitch of 100 pixels, room after it for one more digit."""
    strokes = np.zeros((140, 560), np.float32)
    for left, segments in zip((40, 140, 240, 340), ("abdeg", "abcdefg", "abdeg", "abcdef"), strict=True):
        _paint_digit(strokes, segments, left)
    return strokes


def test_a_narrow_box_after_the_last_digit_is_no_8():
    # The panel's frame edge after the row, a box two thirds of a digit wide, off the
    # row's pitch and no taller than the digits: no segment pattern it shows makes it a digit.
    strokes = _row_2820()
    _paint_digit(strokes, "abcdefg", 415, width=40)
    reading = _read_row(strokes, strokes > 0.85, Band(20, 120), DisplayOptions())
    assert reading.text == "2820"


def test_a_last_mark_off_the_pitch_that_the_judge_reads_otherwise_is_not_stored():
    # The frame's edge after the row, with its shadow down the middle: its segments make
    # an 8, the learned judge sees no 8, and it keeps to no place on the row's pitch.
    strokes = _row_2820()
    _paint_digit(strokes, "abcdef", 425, width=50)
    strokes[30:110, 440:450] = 1.0
    reading = _read_row(strokes, strokes > 0.85, Band(20, 120), DisplayOptions())
    assert reading.confidence < 0.5


def _row_with_a_mark_after_it(mark_left: int) -> PanelReading:
    """2820 painted on the row's pitch, then a mark that spells no digit (a worn 7's top
    and left bars, or the frame's corner) from `mark_left`."""
    strokes = _row_2820()
    _paint_digit(strokes, "aef", mark_left, width=50)
    return _read_row(strokes, strokes > 0.85, Band(20, 120), DisplayOptions())


def test_a_mark_where_the_next_digit_would_stand_doubts_the_number_before_it():
    # As far after the last digit as the digits are apart: maybe a digit, worn; without it
    # the number has lost its last digit.
    at_next_place = _row_with_a_mark_after_it(430)
    assert at_next_place.text == "2820"
    assert at_next_place.row_goes_on
    assert at_next_place.confidence < 0.5
    # Close after the last digit: the frame's edge, skipped at the usual small cost.
    close_after = _row_with_a_mark_after_it(412)
    assert close_after.text == "2820"
    assert not close_after.row_goes_on
    assert close_after.confidence >= 0.7


def test_a_number_another_view_saw_go_on_is_doubted_in_every_view():
    # The whole photo, at a coarse scale, lost a faint last digit; the panel saw a mark there.
    panel = PanelReading("34.0", 0.3, 3, quad=((100, 300), (1900, 300), (1900, 800), (100, 800)), row_goes_on=True)
    coarse = PanelReading("34.0", 0.6, 3, quad=WHOLE_PHOTO)
    assert _seen_to_go_on(coarse, [panel, coarse])
    assert not _seen_to_go_on(coarse, [replace(panel, row_goes_on=False), coarse])
    assert not _seen_to_go_on(coarse, [replace(panel, text="34.01"), coarse])
