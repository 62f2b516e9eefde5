"""Tables for a terminal, fitted to its width when one is given.

Piped or written to a file, a table is always whole (the bytes do not depend on a window). On a
terminal narrower than the table, text columns are wrapped within their column (never below a
readable width), then the least needed columns are left out, in the order the report gives, and
the report says which. Chinese text is measured by display width, as tabulate aligns it.
"""
from __future__ import annotations

import re

from tabulate import tabulate

from .display import display_width

GAP = 2  # tabulate's "simple" format: two spaces between columns
HEADER_PADDING = 2  # and a column at least two wider than its header
NARROWEST = 10  # text wraps no narrower: five Chinese characters


def fitted(headers: list[str], rows: list[list[str]], align: list[str], width: int | None = None,
           wrap: dict[int, int] | None = None, drop: tuple[int, ...] = ()) -> tuple[str, list[str]]:
    """The cells as a table at most `width` columns wide where it can be: the `wrap` columns
    (index -> the width they wrap at comfortably) are narrowed, the widest first, and the `drop`
    columns left out in their order, as few as fit; when even that is too wide, the text wraps down
    to NARROWEST. Returns the table and the headers of the columns left out."""
    natural = [max([display_width(h) + HEADER_PADDING] + [display_width(row[c]) for row in rows])
               for c, h in enumerate(headers)]
    shown, limits = list(range(len(headers))), {}
    if width is not None:
        least = {c: display_width(headers[c]) + HEADER_PADDING for c in wrap or {}}
        comfortable = {c: max(at, least[c]) for c, at in (wrap or {}).items()}
        narrowest = {c: max(NARROWEST, least[c]) for c in comfortable}
        shown, limits = _fit(natural, comfortable, drop, width) or _fit(natural, narrowest, drop, width, last=True)
    table = tabulate([[row[c] for c in shown] for row in rows], headers=[headers[c] for c in shown],
                     tablefmt="simple", disable_numparse=True, colalign=[align[c] for c in shown],
                     maxcolwidths=[limits.get(c) for c in shown])
    return table, [headers[c] for c in range(len(headers)) if c not in shown]


def _fit(natural: list[int], floors: dict[int, int], drop: tuple[int, ...], width: int, last: bool = False):
    """(columns shown, wrap limits) leaving out as few `drop` columns as fits `width` with text
    wrapped no narrower than `floors`; None when nothing fits, unless `last` (then the narrowest)."""
    shown, to_drop = list(range(len(natural))), [c for c in drop if c < len(natural)]
    while True:
        limits = _narrowed(shown, natural, floors, excess=_table_width(shown, natural) - width)
        if _table_width(shown, [limits.get(c, n) for c, n in enumerate(natural)]) <= width:
            return shown, limits
        if not to_drop:
            return (shown, limits) if last else None
        shown.remove(to_drop.pop(0))


def left_out_note(left_out: list[str], width: int | None) -> list[str]:
    """The line under a fitted table that says what it does not show."""
    if not left_out:
        return []
    return [f"（终端宽 {width} 列，未显示：{'、'.join(left_out)}；加宽窗口或用 --format csv、json 可见全部列。）"]


def _table_width(shown: list[int], widths) -> int:
    return sum(widths[c] for c in shown) + GAP * (len(shown) - 1)


def _narrowed(shown: list[int], natural: list[int], wrap: dict[int, int], excess: int) -> dict[int, int]:
    """Column limits that take `excess` columns off the wrappable ones, always from the widest slack."""
    limits = {c: natural[c] for c in shown if c in wrap and natural[c] > wrap[c]}
    while excess > 0 and limits:
        column = max(limits, key=lambda c: (limits[c] - wrap[c], -c))
        slack = limits[column] - wrap[column]
        if slack <= 0:
            break
        cut = min(slack, excess, max(1, slack // 2))  # in steps, so that two wide columns share the cut
        limits[column] -= cut
        excess -= cut
    return {c: limit for c, limit in limits.items() if limit < natural[c]}


_TOKENS = re.compile(r"[0-9A-Za-z_.:/+\-%()#@]+|\s+|.")  # an id, a number, a date or a hash never breaks


def wrapped(lines: list[str], width: int | None) -> list[str]:
    """Lines of prose wrapped to `width` by display width, between characters but never inside a
    run of letters and digits; unchanged when width is None."""
    if width is None:
        return lines
    out = []
    for line in lines:
        current = ""
        for token in _TOKENS.findall(line):
            if current and display_width(current + token) > width:
                out.append(current.rstrip())
                current = token.lstrip()
            else:
                current += token
        out.append(current.rstrip())
    return out
