"""What a rule file may ask of the engine: every limit in one place.

Rule files can come from untrusted sources. The language computes exactly (Python integers
and fractions) and a text can be joined to itself, so without limits a short file could ask
for a number of a billion digits or a text of terabytes: the run would never end. Each limit
below is checked where the value is made (written in the file, folded when the rulebook is
compiled, or computed while scoring), with an error that names where, and each is far above
what a scoring scheme needs. The README's "Limits" lists them for rule authors.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from scoring.base.i18n import _

# expressions (syntax.py)
MAX_EXPRESSION_LENGTH = 4000  # characters
MAX_EXPRESSION_PARTS = 800  # nodes of the parsed tree
MAX_EXPRESSION_DEPTH = 100  # parts nested in each other (a + b + c ... nests too)
MAX_LET_CHAIN = 50  # lets built on lets built on lets ...

# numbers written in a rule file (a literal, or a TOML value)
MAX_EXPONENT = 30  # 10^-30 <= |x| < 10^31, or 0
MAX_DIGITS = 30  # significant digits
MAX_PLACES = 30  # the places of round() and percent()

# values computed when the rulebook is compiled or while scoring
MAX_COMPUTED_BITS = 1000  # numerator and denominator below 2^1000 (about 10^301)
MAX_TEXT = 100_000  # characters of a text

# TOML values nested in each other (tables in lists in tables ...)
MAX_NESTING = 20


def number_problem(value: int | Decimal | str) -> str | None:
    """Why a number written in a rule file is refused (None: it is fine).

    A literal's text is read as a Decimal, which keeps its exponent apart: "1e999999999" is
    judged without ever being expanded."""
    written = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 4 * (MAX_EXPONENT + 2):  # surely out of range; str() of it could be slow
            return _("a number of {bits} bits is out of range (at most 10^{most} in size, at least 10^-{most})").format(
                bits=value.bit_length(), most=MAX_EXPONENT)
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.replace("_", ""))
        except InvalidOperation:
            return _("{value} is not a number").format(value=value)
    shown = _short(written if written is not None else str(value))
    if not value.is_finite():
        return _("{value} is not a finite number").format(value=shown)
    if not value:
        return None
    if abs(value.adjusted()) > MAX_EXPONENT:
        return _out_of_range(shown)
    digits = len("".join(map(str, value.as_tuple().digits)).strip("0"))
    if digits > MAX_DIGITS:
        return _("{value} has {digits} significant digits; at most {most} are kept exactly").format(
            value=shown, digits=digits, most=MAX_DIGITS)
    return None


def _out_of_range(what: str) -> str:
    return _("{value} is out of range (at most 10^{most} in size, at least 10^-{most})").format(value=what, most=MAX_EXPONENT)


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}…{text[-12:]}"


def number_too_large(value: int | Fraction) -> bool:
    """Whether a computed number is beyond MAX_COMPUTED_BITS (above or below the fraction line)."""
    if type(value) is int:
        return value.bit_length() > MAX_COMPUTED_BITS
    return value.numerator.bit_length() > MAX_COMPUTED_BITS or value.denominator.bit_length() > MAX_COMPUTED_BITS


COMPUTED_NUMBER = f"a number computed by the rules grew beyond 2^{MAX_COMPUTED_BITS} (about 10^301), the limit"
COMPUTED_TEXT = f"a text computed by the rules grew beyond {MAX_TEXT:,} characters, the limit"
