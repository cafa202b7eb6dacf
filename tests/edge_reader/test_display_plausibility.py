"""The filter that flags a reading jumping too far from the frames before it."""

from __future__ import annotations

import pytest

from edge_reader.plausibility import PlausibilityFilter


def test_it_accepts_the_first_reading() -> None:
    assert PlausibilityFilter(max_jump=1.0).check(1000.0)


def test_it_accepts_small_steps_and_refuses_a_jump() -> None:
    check = PlausibilityFilter(max_jump=5.0)

    assert [check(v) for v in (20.0, 22.0, 25.5, 60.0, 27.0)] == [True, True, True, False, True]


def test_a_refused_reading_does_not_become_the_reference() -> None:
    check = PlausibilityFilter(max_jump=5.0)
    check(20.0)

    check(90.0)

    assert check.last_accepted == 20.0
    assert check(24.0)


def test_a_new_level_is_accepted_once_readings_agree_on_it() -> None:
    check = PlausibilityFilter(max_jump=5.0, confirm_after=3)
    check(20.0)

    assert [check(v) for v in (80.0, 81.0, 80.5)] == [False, False, True]
    assert check.last_accepted == 80.5


def test_scattered_outliers_never_confirm_each_other() -> None:
    check = PlausibilityFilter(max_jump=5.0, confirm_after=2)
    check(20.0)

    assert [check(v) for v in (80.0, 140.0, 200.0, 20.5)] == [False, False, False, True]


def test_reset_forgets_the_history() -> None:
    check = PlausibilityFilter(max_jump=1.0)
    check(5.0)

    check.reset()

    assert check(500.0)


@pytest.mark.parametrize("options", [{"max_jump": 0}, {"max_jump": -1}, {"max_jump": 1, "confirm_after": 0}])
def test_it_refuses_meaningless_settings(options: dict) -> None:
    with pytest.raises(ValueError):
        PlausibilityFilter(**options)
