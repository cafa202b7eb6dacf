"""What a dial reading's confidence is made of: a reading at or above the server's default
minimum confidence (0.5) must be right, and a pointer that is not one pointer is refused."""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge_reader.pointer import STEADY, degrees_apart, find_pointer
from edge_reader.readers import read_image
from edge_reader.result import ReadError
from edge_reader.synthetic import random_meter_dial
from tests.edge_reader.helpers import pointer_of_meter_dial

SUB_DIAL = {"kind": "dial", "min_angle": 0, "max_angle": 360, "min_value": 0, "max_value": 10}
FACE, RED = (225, 225, 225), (40, 40, 200)


def cyclic_error_pct(read: float, true: float) -> float:
    error = abs(read - true) % 10
    return 10 * min(error, 10 - error)


def test_confident_readings_of_drawn_meter_sub_dials_are_right():
    # Photos cut down to a sub-dial, a few pixels off its pivot: where the line stage (seen
    # from the guessed centre) and the mass stage (seen from the pivot) disagree by degrees,
    # the pivot's view is taken, so a confident reading is not a few percent off.
    rng = np.random.default_rng(11)
    confident = wrong = 0
    for _ in range(120):
        image, value = random_meter_dial(rng)
        try:
            reading = read_image(image, SUB_DIAL)
        except ReadError:
            continue
        if reading.confidence >= 0.5:
            confident += 1
            wrong += cyclic_error_pct(reading.value, value) > 2.0
    assert confident >= 60
    assert wrong / confident <= 0.01


def three_armed_rotor(angle: float) -> np.ndarray:
    """A meter's rotor wheel: three equal arms round the hub, no arm marked as the pointer."""
    image = np.full((141, 141, 3), FACE, np.uint8)
    for arm in range(3):
        theta = math.radians(angle + 120 * arm)
        tip = (70 + 50 * math.sin(theta), 70 - 50 * math.cos(theta))
        sides = [(70 + 12 * math.sin(theta + turn), 70 - 12 * math.cos(theta + turn)) for turn in (1.2, -1.2)]
        cv2.fillPoly(image, [np.array([tip, *sides], np.int32)], RED)
    cv2.circle(image, (70, 70), 12, RED, -1)
    return image


def test_a_pointer_that_moves_when_the_centre_moves_a_little_is_not_trusted():
    # Which of three equal arms reaches farthest depends on where the hub is taken to be:
    # the estimate jumps from arm to arm, so it carries no confidence, whatever its shape.
    for angle in (20, 100, 200, 290):
        pointer = find_pointer(three_armed_rotor(angle), (70, 70), 63)
        assert pointer is None or pointer.confidence < 0.05


def test_a_real_pointer_stays_put_when_the_centre_moves_a_little():
    # Drop, tapered, arrow and line pointers, seen from a centre a few pixels off their pivot.
    rng = np.random.default_rng(5)
    wanders = []
    for _ in range(20):
        image, value = random_meter_dial(rng)
        pointer = pointer_of_meter_dial(image)
        if pointer is not None and degrees_apart(pointer.angle, value * 36) < 5:
            wanders.append(pointer.factors["wander"])
    assert len(wanders) >= 10
    assert max(wanders) <= STEADY
