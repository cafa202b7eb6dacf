"""Flag readings that jump further between consecutive frames than the process can move.

A misread digit (a 3 taken for an 8 in glare) usually shows as a sudden jump, while the
quantity a meter shows changes smoothly between frames a few seconds apart. The filter
keeps the last accepted value and refuses one that lies more than `max_jump` from it.

A real step (a pump starting) would otherwise be refused for ever: once `confirm_after`
consecutive readings agree with each other (within `max_jump`) they are taken as the new
level. The first reading, and the first after `reset()`, is always accepted.

    check = PlausibilityFilter(max_jump=5.0)
    check(20.1)   # True: nothing to compare with yet
    check(20.4)   # True
    check(80.4)   # False: a jump of 60
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlausibilityFilter:
    max_jump: float
    confirm_after: int = 3
    last_accepted: float | None = None
    _pending: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.max_jump > 0:
            raise ValueError("max_jump must be a positive number")
        if self.confirm_after < 1:
            raise ValueError("confirm_after must be at least 1")

    def check(self, value: float) -> bool:
        """True when `value` is plausible after the previous readings; it then becomes the reference."""
        if self.last_accepted is None or abs(value - self.last_accepted) <= self.max_jump:
            self._accept(value)
            return True
        if self._pending and abs(value - self._pending[-1]) > self.max_jump:
            self._pending.clear()  # the outliers disagree with each other too: start counting again
        self._pending.append(value)
        if len(self._pending) >= self.confirm_after:
            self._accept(value)  # the readings settled at a new level: the process really moved
            return True
        return False

    __call__ = check

    def reset(self) -> None:
        """Forget the history, e.g. after the camera was moved or the meter changed range."""
        self.last_accepted = None
        self._pending.clear()

    def _accept(self, value: float) -> None:
        self.last_accepted = value
        self._pending.clear()
