"""Help wrapped by display width, so that Chinese help keeps to the terminal's columns.

click wraps help with textwrap: it counts characters and breaks lines at spaces. A Chinese
character takes two columns and a Chinese sentence has no spaces, so a translated option's help
ran on to 110 columns of an 80-column terminal. Text with wide characters is wrapped here
instead: a line may break between any two Chinese characters, never before a closing mark
(，。）) nor after an opening one (（); runs of other characters (option names, paths, `x>=0`)
and click's [必填] stay whole. Text without wide characters is wrapped by click, as before.
"""
from __future__ import annotations

import re

import click
from click.formatting import iter_rows, measure_table, term_len, wrap_text

_WIDE = "\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
# what click adds after an option's help ([必填], [默认：table]) is one piece, then as above
_TOKENS = re.compile(rf"\[[^\]\s]{{1,30}}\]|\s+|[^\s{_WIDE}]+|[{_WIDE}]")
_HAS_WIDE = re.compile(rf"[{_WIDE}]")
_NO_LINE_START = set("，。、；：？！）》」』】〕…,.;:?!)]}%")
_NO_LINE_END = set("（《「『【〔([{")


def _width(text: str) -> int:
    from wcwidth import wcswidth  # only for wide text: not at start-up (`scoring --help` in English)
    found = wcswidth(text)
    return found if found >= 0 else len(text)  # a control character: counted as one column


def _units(text: str) -> list[str]:
    """The pieces a line may break between: whitespace, a run of narrow characters, a wide character;
    a closing mark is glued to the piece before it, an opening mark to the piece after it."""
    units: list[str] = []
    for token in _TOKENS.findall(text):
        if units and not token.isspace() and not units[-1].isspace() and (
                token[0] in _NO_LINE_START or units[-1][-1] in _NO_LINE_END):
            units[-1] += token
        else:
            units.append(token)
    return units


def _wrap_paragraph(text: str, width: int, initial_indent: str, subsequent_indent: str) -> list[str]:
    lines, line, filled, space = [], initial_indent, False, ""
    for unit in _units(text):
        if unit.isspace():
            space = (" " if "\n" in unit else unit) if filled else ""  # click's two spaces before [必填] stay
            continue
        if filled and _width(line) + len(space) + _width(unit) > width:
            lines.append(line)
            line, space = subsequent_indent, ""
        line += space + unit
        filled, space = True, ""
    lines.append(line)
    return lines


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "") -> str:
    """`text` wrapped to `width` columns, paragraph by paragraph (click's `preserve_paragraphs`)."""
    if not _HAS_WIDE.search(text):
        return wrap_text(text, width, initial_indent=initial_indent, subsequent_indent=subsequent_indent,
                         preserve_paragraphs=True)
    out = []
    for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
        if paragraph.startswith("\b"):  # click's mark for a paragraph printed as written
            out.append("\n".join(initial_indent + line for line in paragraph[1:].strip("\n").splitlines()))
        else:
            out.append("\n".join(_wrap_paragraph(paragraph, width, initial_indent, subsequent_indent)))
    return "\n\n".join(out)


class WideHelpFormatter(click.HelpFormatter):
    """click's formatter with the text of paragraphs and of option lists wrapped by `wrap`."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write(wrap(text, self.width, initial_indent=indent, subsequent_indent=indent))
        self.write("\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:  # click's, wrapping with `wrap`
        rows = list(rows)
        widths = measure_table(rows)
        if len(widths) != 2:
            raise TypeError("Expected two columns for definition list")
        first_col = min(widths[0], col_max) + col_spacing
        for first, second in iter_rows(rows, len(widths)):
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if term_len(first) <= first_col - col_spacing:
                self.write(" " * (first_col - term_len(first)))
            else:
                self.write("\n")
                self.write(" " * (first_col + self.current_indent))
            lines = wrap(second, max(self.width - first_col - 2, 10)).splitlines() or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class HelpContext(click.Context):
    formatter_class = WideHelpFormatter
