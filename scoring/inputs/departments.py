"""Department names as case files write them: declared ones checked and aliased, undeclared ones compared.

A department written two ways is two departments: `市住建局` in two rows of a year written
`市住房建设局` everywhere else made a sixteenth department, ranked on its own. A rulebook can
declare the departments it assesses and other names they go by ([departments] assessed and
aliases, or an overlay holding only that table); then an alias is replaced by its department
before the case is validated, and any other name is a problem of the case, with the closest
names assessed. Without a declared list nothing can be refused, so names that look like one
department written two ways are reported as a warning: the same once common abbreviations
are applied (住房建设/住建, 城乡建设/城建, ...), one character apart, or one name made of
the other's characters in order (an abbreviation, 市住建局 of 市住房和城乡建设局).
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field
from itertools import combinations

from scoring.base.i18n import _

# Long forms in departments' names and their usual abbreviations, longest first where they overlap.
ABBREVIATIONS = (
    ("住房和城乡建设", "住建"), ("住房城乡建设", "住建"), ("住房建设", "住建"), ("城乡建设", "城建"),
    ("人力资源和社会保障", "人社"), ("人力资源社会保障", "人社"), ("发展和改革", "发改"), ("发展改革", "发改"),
    ("市场监督管理", "市场监管"), ("卫生健康", "卫健"), ("卫生和计划生育", "卫计"), ("城市管理", "城管"),
    ("工业和信息化", "工信"), ("规划和自然资源", "规划资源"), ("自然资源和规划", "规划资源"), ("科学技术", "科技"),
    ("交通运输", "交通"), ("生态环境", "环境"), ("委员会", "委"),
)
MIN_LENGTH = 5  # names one character apart are compared from this length on (市教育局 and 市体育局 are two)
MIN_ABBREVIATION = 4  # the shortest name taken for an abbreviation of a longer one


@dataclass(frozen=True)
class Departments:
    """What a rulebook declares: the departments assessed (empty: any), and aliases of their names."""

    assessed: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.assessed or self.aliases)

    def canonical(self, name: str) -> str:
        return self.aliases.get(name, name)

    def refusal(self, name: str) -> str | None:
        """Why a name (after its alias) is not a department assessed, or None."""
        if not self.assessed or name in self.assessed:
            return None
        near = [known for known in self.assessed if similarity(name, known)]
        near += difflib.get_close_matches(name, [k for k in self.assessed if k not in near], n=3, cutoff=0.6)
        hint = _(" (closest: {names})").format(names=", ".join(near[:3])) if near else ""
        return _('"{name}" is not a department the rulebook assesses{hint}; add it to [departments] assessed, or map it '
                 "to one of them under [departments] aliases").format(name=name, hint=hint)


def similarity(a: str, b: str) -> str | None:
    """Why two different names look like one department, or None."""
    plain_a, plain_b = _plain(a), _plain(b)
    if plain_a == plain_b:
        return "they differ only in spaces or in full-width characters"
    short_a, short_b = _short(plain_a), _short(plain_b)
    if short_a == short_b:
        return f"both read {short_a} once abbreviated"
    for x, y in ((plain_a, plain_b), (short_a, short_b)):
        if min(len(x), len(y)) >= MIN_LENGTH and _one_edit(x, y):
            return "they are one character apart"
    short, long = sorted((plain_a, plain_b), key=len)
    if len(short) >= MIN_ABBREVIATION and short[0] == long[0] and short[-1] == long[-1] and _within(short, long):
        return f"{short} could be an abbreviation of {long}"
    return None


def similar_pairs(names) -> list[tuple[str, str, str]]:
    """(a, b, why) for every two names that look like one department, in name order."""
    return [(a, b, why) for a, b in combinations(sorted(set(names)), 2) if (why := similarity(a, b))]


def _plain(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _short(name: str) -> str:
    for long, short in ABBREVIATIONS:
        name = name.replace(long, short)
    return name


def _one_edit(a: str, b: str) -> bool:
    """Whether one character changed, added or removed turns a into b."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1:] == b[i + 1:] if len(a) == len(b) else a[i:] == b[i + 1:]


def _within(short: str, long: str) -> bool:
    """Whether short's characters all appear in long, in order."""
    rest = iter(long)
    return all(character in rest for character in short)
