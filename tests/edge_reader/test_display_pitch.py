"""Digit cells placed on the row's regular pitch, and a point the reader may have missed."""

from __future__ import annotations

import numpy as np

from edge_reader.display import Band, Cell, _at_row_end, _gap_marks, _on_pitch, _row_pitch, read_display
from edge_reader.synthetic_display import Camera, DisplayStyle, draw_display

HEIGHT = 100  # the digit row's height, pixels


def digits_at(*rights: int, width: int = 60) -> list[Cell]:
    return [Cell(right - width, right, "digit") for right in rights]


def spans(cells: list[Cell]) -> list[tuple[int, int]]:
    return [(cell.left, cell.right) for cell in cells]


def test_the_pitch_is_the_step_between_digits_right_edges_whatever_stands_first():
    frame = Cell(20, 28, "one")  # the panel's frame, off the grid, at the start of the row
    cells = [frame, *digits_at(200, 280, 360, 440)]
    pitch, anchor = _row_pitch(cells, HEIGHT)
    assert pitch == 80
    assert anchor in (200, 280, 360, 440)


def test_digits_at_uneven_steps_give_no_grid():
    assert _row_pitch(digits_at(200, 280, 380, 440), HEIGHT) is None
    assert _row_pitch(digits_at(200, 280), HEIGHT) is None  # two digits: one step, nothing to check it by


def test_narrow_marks_off_the_grid_at_the_row_ends_are_dropped():
    speck, frame = Cell(0, 7, "one"), Cell(470, 478, "one")
    cells = _on_pitch([speck, *digits_at(200, 280, 360, 440), frame], HEIGHT)
    assert spans(cells) == spans(digits_at(200, 280, 360, 440))


def test_a_bar_dropped_just_before_the_number_is_remembered_as_a_possible_leading_1():
    number = digits_at(240, 360, 480, 600, width=80)
    early_one = Cell(108, 140, "one")  # off the grid, close before the number: a pump's leading 1
    cells = _on_pitch([early_one, *number], HEIGHT)
    assert spans(cells) == spans(number)
    assert cells[0].one_dropped_before
    # A speck a place and more before the number is no digit of it.
    far = _on_pitch([Cell(0, 7, "one"), *digits_at(240, 360, 480, 600, width=80)], HEIGHT)
    assert not far[0].one_dropped_before


def test_a_1_on_the_grid_is_kept():
    one = Cell(112, 120, "one")
    cells = _on_pitch([one, *digits_at(200, 280, 360)], HEIGHT)
    assert spans(cells)[0] == (112, 120)


def test_a_piece_parted_from_its_digit_is_joined_to_it():
    # A bright reflection parts the digit ending at 360 into a left piece and the rest.
    piece, rest = Cell(300, 318, "one"), Cell(330, 360, "digit")
    cells = _on_pitch([*digits_at(200, 280), piece, rest, *digits_at(440, 520)], HEIGHT)
    assert spans(cells) == [(140, 200), (220, 280), (300, 360), (380, 440), (460, 520)]


def test_ink_at_the_foot_of_a_gap_shows_as_a_mark_there():
    strokes = np.zeros((120, 500), np.float32)
    band = Band(10, 110)
    cells = digits_at(200, 280, 360)
    assert max(_gap_marks(strokes, cells, band, 10.0)) == 0.0
    strokes[100:108, 205:213] = 0.8  # a faint point after the first digit
    marks = _gap_marks(strokes, cells, band, 10.0)
    assert marks[0] >= 0.5 and marks[1] == 0.0


def test_a_drawn_pump_display_with_stray_marks_at_its_ends_reads_confidently():
    pump = DisplayStyle(
        positions=5,
        lcd=True,
        panel=(150, 185, 165),
        segment=(40, 45, 40),
        housing=(230, 230, 230),
        ghost=0.12,
        frame=0.08,
    )
    drawn = draw_display(
        "113.0", pump, Camera(size=(1280, 720), panel_width=0.7, blur=0.03, noise=4.0, jpeg_quality=70)
    )
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.details["text"] == "113.0"
    assert reading.confidence >= 0.5


def test_a_frame_close_enough_to_pass_for_a_step_still_leaves_the_grid_to_the_digits():
    frame = Cell(492, 500, "one")  # 60 px after the last digit: as far as a digit might be, but off the pitch
    cells = _on_pitch([*digits_at(200, 280, 360, 440), frame], HEIGHT)
    assert spans(cells) == spans(digits_at(200, 280, 360, 440))


def test_a_wide_mark_off_the_pitch_at_the_row_end_counts_as_no_digit():
    knob = Cell(458, 500, "digit")  # the panel's frame knob past the last digit: wide, but off the grid
    cells = _on_pitch([*digits_at(200, 280, 360, 440), knob], HEIGHT)
    assert cells[-1].off_pitch
    assert _at_row_end(cells[-1], cells)
    assert not any(cell.off_pitch for cell in cells[:-1])
    assert not _at_row_end(cells[-2], cells)


def test_two_digits_read_but_below_the_storing_threshold():
    drawn = draw_display("42", DisplayStyle(positions=2), Camera(size=(1280, 720)))
    four = draw_display("4217", DisplayStyle(positions=4), Camera(size=(1280, 720)))
    pair, row = (read_display(d.image, {"kind": "seven_segment"}) for d in (drawn, four))
    assert pair.details["text"] == "42" and row.details["text"] == "4217"
    assert pair.confidence < row.confidence
    assert pair.confidence <= 0.65
