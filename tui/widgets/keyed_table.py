"""A DataTable whose rows are keyed by id and synced in place, so refreshes cost what changed, not what is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from tui.widgets.sorting import Sorting

Cell = str | Text
Row = tuple[str, Sequence[Cell]]


class KeyedText(Text):
    """A first-column cell that knows its row key, so rows can be sorted into snapshot order by key."""

    row_key: str = ""

    @classmethod
    def of(cls, cell: Cell, key: str) -> KeyedText:
        """A copy of ``cell`` tagged with ``key``."""
        text = cell if isinstance(cell, Text) else Text(cell)
        keyed = cls(text.plain, style=text.style, justify=text.justify, overflow=text.overflow,
                    no_wrap=text.no_wrap, end=text.end, tab_size=text.tab_size, spans=list(text.spans))
        keyed.row_key = key
        return keyed


def _width(cell: Cell) -> int:
    """Cells a value needs: its widest line."""
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.split("\n")), default=0)



def largest_first(value: float | None) -> tuple[bool, float]:
    """Sort key part for the largest value first, with None after every number."""
    return value is None, -(value or 0.0)

class KeyedTable(DataTable[Cell]):
    """Row-cursor table with fixed columns; ``sync`` updates changed cells, adds new keys, drops stale ones.

    Given a ``sorting``, the sorted column's header carries its arrow and a header click picks that column's
    order (a second click reverses it); the table posts ``SortChanged`` and its owner re-renders the rows.
    """

    @dataclass
    class SortChanged(Message):
        """A header click changed the table's sort; the rows are re-sorted on the next render."""

        table: KeyedTable

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        row_height: int = 1,
        id: str | None = None,
        optional: frozenset[str] = frozenset(),
        full_width: int = 0,
        wide: frozenset[str] = frozenset(),
        wide_width: int = 0,
        sorting: Sorting[Any] | None = None,
    ) -> None:
        """``optional`` columns are left out while the table is narrower than ``full_width`` cells; ``wide``
        columns are added only once it is ``wide_width`` cells or wider."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._column_spec = tuple(columns)
        self._row_height = row_height
        self._reset_cursor: str | None = None
        """The row the cursor was on when ``reset`` dropped every row, restored by the next ``sync``."""
        self._optional = optional
        self._full_width = full_width
        self._compact = False
        self._wide_keys = wide
        self._wide_width = wide_width
        self._wide = False
        self._last_rows: Sequence[Row] = ()
        self.sorting = sorting
        self._marked: tuple[str, str] | None = None
        """The (column, arrow) the headers show now."""

    def on_mount(self) -> None:
        """Create the columns once; rows come and go by key after that (and on a width change, see on_resize)."""
        self._add_columns()

    def _add_columns(self) -> None:
        """Add the columns that fit the current mode, the sorted one's label with its arrow."""
        self._marked = self.sorting.marker if self.sorting is not None else None
        column, arrow = self._marked or ("", "")
        for key, label in self._column_spec:
            if key in self.column_keys:
                self.add_column(Text(f"{label}{arrow}" if key == column else label), key=key)

    def on_resize(self) -> None:
        """Switch between full and compact columns when the width crosses ``full_width`` (rare: a resize)."""
        compact = bool(self._optional) and 0 < self.size.width < self._full_width
        wide = bool(self._wide_keys) and self.size.width >= self._wide_width
        if (compact, wide) == (self._compact, self._wide):
            return
        self._compact, self._wide = compact, wide
        keep = self.highlighted_key
        self.clear(columns=True)
        self._add_columns()
        rows, self._last_rows = self._last_rows, ()
        self.sync(rows)
        self._restore_cursor(keep)

    def reset(self) -> None:
        """Drop every row and re-create the columns, so the next ``sync`` measures them afresh (and puts the
        cursor back on the row it was on)."""
        self._reset_cursor = self.highlighted_key or self._reset_cursor
        self.clear(columns=True)
        self._last_rows = ()
        self._add_columns()

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The visible columns' keys, in order."""
        return tuple(key for key, _ in self._column_spec if self._shows(key))

    def _shows(self, key: str) -> bool:
        """Whether column ``key`` is visible at the current width."""
        return not (self._compact and key in self._optional) and (self._wide or key not in self._wide_keys)

    def _visible(self, cells: Sequence[Cell]) -> Sequence[Cell]:
        """The cells of the visible columns (rows always carry every column)."""
        if not self._compact and (self._wide or not self._wide_keys):
            return cells
        return [cell for (key, _), cell in zip(self._column_spec, cells, strict=True) if self._shows(key)]

    @property
    def highlighted_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row_key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key
        return row_key.value

    def sync(self, rows: Sequence[Row]) -> None:
        """Make the table show ``rows`` in that order, touching only what differs; the cursor stays on its key.

        A column grows when a cell outgrows it but never shrinks on update: re-measuring a whole column per
        narrower cell (what ``update_width=True`` does) is quadratic at 1,000 rows, and steady widths read better.
        """
        self._last_rows = rows
        keep = self.highlighted_key if self.row_count else self._reset_cursor
        self._reset_cursor = None
        if self.sorting is not None and self.sorting.marker != self._marked:
            self._relabel()
        wanted = {key for key, _ in rows}
        for stale in [key.value for key in self.rows if key.value is not None and key.value not in wanted]:
            self.remove_row(stale)
        columns = self.column_keys
        reorder = False
        for position, (key, cells) in enumerate(rows):
            cells = self._visible(cells)
            cells = [KeyedText.of(cells[0], key), *cells[1:]]
            if key not in self.rows:
                self.add_row(*cells, key=key, height=self._row_height)
                reorder = True
                continue
            current = self.get_row(key)
            for column, old, new in zip(columns, current, cells, strict=True):
                if old != new:
                    grow = _width(new) > self.columns[ColumnKey(column)].content_width
                    self.update_cell(key, column, new, update_width=grow)
            reorder = reorder or self.get_row_index(key) != position
        if reorder:
            rank = {key: position for position, (key, _) in enumerate(rows)}
            self.sort(columns[0], key=lambda cell: rank[cell.row_key])
        self._restore_cursor(keep)

    def _relabel(self) -> None:
        """A new sort: re-create the columns so the sorted one's header takes the arrow; the rows are re-added by
        the caller. Each column keeps its measured width, so no row is drawn cut before the table re-measures."""
        widths = {key.value: column.content_width for key, column in self.columns.items()}
        self.clear(columns=True)
        self._add_columns()
        for key, column in self.columns.items():
            column.content_width = max(column.content_width, widths.get(key.value, 0))

    @on(DataTable.HeaderSelected)
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        """A click on a sortable column's header sorts by it (again: reversed)."""
        event.stop()
        if self.sorting is not None and self.sorting.by_column(event.column_key.value or ""):
            self.post_message(self.SortChanged(self))

    def _restore_cursor(self, key: str | None) -> None:
        """Put the cursor back on the row it was on before the sync, when that row is still there."""
        if key is None or key not in self.rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)
