"""A table's sort state: its orders (one per sortable column), which one is in use, and whether it is reversed.

Plain data and pure functions, shared by every sortable table: `s` cycles the orders, `S` reverses the one in
use, a header click picks its column's order (a second click reverses it), and the sorted column's header
shows an arrow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

UP = "▲"
"""Header arrow: the column's smallest value (or earliest time) first."""
DOWN = "▼"
"""Header arrow: the column's largest value (or latest time) first."""


@dataclass(frozen=True)
class SortOrder(Generic[T]):
    """One order a table can be sorted by: its name in the hint, the column whose header shows it, its key."""

    name: str
    column: str
    key: Callable[[T], Any]
    descending: bool = False
    """True when the order puts the column's largest values (latest times) first: its header arrow is ▼."""


class Sorting(Generic[T]):
    """Which of ``orders`` a table uses (the first by default) and whether it is reversed."""

    def __init__(self, orders: Sequence[SortOrder[T]]) -> None:
        if not orders:
            raise ValueError("a sortable table needs at least one order")
        self.orders = tuple(orders)
        self.index = 0
        self.reversed = False

    @property
    def order(self) -> SortOrder[T]:
        """The order in use."""
        return self.orders[self.index]

    @property
    def is_default(self) -> bool:
        """True while the table shows its default order, not reversed."""
        return self.index == 0 and not self.reversed

    @property
    def label(self) -> str:
        """The order's name for the sort hint, ", reversed" when it is."""
        return self.order.name + (", reversed" if self.reversed else "")

    @property
    def hint(self) -> str:
        """The line beside the table's title: what it is sorted by and the keys that change it."""
        return f"sorted by {self.label} · s/S"

    @property
    def arrow(self) -> str:
        """The sorted column's header arrow: ▼ largest first, ▲ smallest first."""
        return DOWN if self.order.descending != self.reversed else UP

    @property
    def marker(self) -> tuple[str, str]:
        """(column key, arrow): what the header shows; a change re-labels the columns."""
        return self.order.column, self.arrow

    def cycle(self) -> str:
        """The next order (not reversed); returns its label."""
        self.index = (self.index + 1) % len(self.orders)
        self.reversed = False
        return self.label

    def reverse(self) -> str:
        """Reverse the order in use; returns its label."""
        self.reversed = not self.reversed
        return self.label

    def by_column(self, column: str) -> bool:
        """A header click: the column's first order, or the reverse when the table is already sorted by it.
        False (nothing changes) for a column with no order."""
        if self.order.column == column:
            self.reverse()
            return True
        for index, order in enumerate(self.orders):
            if order.column == column:
                self.index, self.reversed = index, False
                return True
        return False

    def apply(self, rows: Iterable[T]) -> list[T]:
        """``rows`` in the order in use; reversed is its exact mirror (ties and missing values too)."""
        ordered = sorted(rows, key=self.order.key)
        return ordered[::-1] if self.reversed else ordered
