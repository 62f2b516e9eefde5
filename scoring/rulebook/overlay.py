"""Overlays and --set: a changed rule, stated apart from the rulebook it changes.

An overlay is a TOML file that names its base rulebook (id and version) and says what to
change: parameters to override, lets to add or replace, criteria and rules to replace, add
or remove, grade bands to replace. `--set name=value` overrides one parameter from the
command line. Applied to the base, they give the *effective rulebook*: an ordinary
rulebook text (TOML) that records what it was made from in [rulebook.derived_from]. That
text is what gets scored, hashed into the ledger, stored with a run and exported, so
`scoring score --rules <effective text>` reproduces the same ledger without the overlay.

    [overlay]
    id = "my-change"
    title = "..."
    version = "1.0.0"
    base = { id = "<rulebook id>", version = "<its version>" }

    [params]                 # merged into the base's: a table merges key by key
    [let]                    # added or replaced
    [[criterion]]            # same id as a base criterion: replaces it whole; a new id: added
                             # (at the end, or before/after = "<criterion id>")
    [[rule]]                 # criterion = "<id>"; same id as a rule there: replaces it in
                             # place; a new id: added (at the end, or before/after = "<rule id>")
    [department_fields]      # added or replaced, field by field
    [[category]] [[gate]] [[scorer]]   # like criteria: same id replaces, a new id is added
                             # (at the end, or before/after = "<id>")
    [remove]                 # criteria, rules, lets, params, department_fields, categories,
                             # gates, scorers = [...]
    [[grade]]                # replaces all grade bands
    [departments]            # replaces the departments assessed and their aliases (an overlay of
                             # only this table is a departments file: the year's list)

Overlays apply in the order given, each against the same base; `--set` applies last. A
problem names the overlay file and line (or the --set argument) it comes from.
"""
from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import tomli_w
from pydantic import Field

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import read_file
from scoring.base.i18n import _, pgettext
from scoring.base.tomlmodel import Locator, parse_toml, problems_in, read_model
from scoring.domain.records import FieldSpec

from .load import Rulebook, parse_rulebook, value_problems
from .model import (
    CategorySpec,
    CriterionSpec,
    DepartmentsSpec,
    GateSpec,
    GradeSpec,
    Identifier,
    ItemId,
    RuleSpec,
    ScorerSpec,
    _Spec,
)


class BaseRef(_Spec):
    id: ItemId
    version: Annotated[str, Field(min_length=1)]


class OverlayInfo(_Spec):
    id: ItemId
    title: str
    version: Annotated[str, Field(min_length=1)]
    base: BaseRef
    description: str = ""


class Placement(_Spec):
    before: ItemId | None = None
    after: ItemId | None = None


class CriterionPatch(CriterionSpec, Placement):
    pass


class RulePatch(RuleSpec, Placement):
    criterion: ItemId


class CategoryPatch(CategorySpec, Placement):
    pass


class GatePatch(GateSpec, Placement):
    pass


class ScorerPatch(ScorerSpec, Placement):
    pass


class Removals(_Spec):
    criteria: list[ItemId] = []
    rules: list[ItemId] = []
    lets: list[str] = []
    params: list[str] = []
    department_fields: list[str] = []
    categories: list[ItemId] = []
    gates: list[ItemId] = []
    scorers: list[ItemId] = []


class OverlaySpec(_Spec):
    overlay: OverlayInfo
    params: dict[str, Any] = {}
    let: dict[Identifier, str] = {}
    department_fields: dict[Identifier, FieldSpec] = {}
    criterion: list[CriterionPatch] = []
    rule: list[RulePatch] = []
    category: list[CategoryPatch] = []
    gate: list[GatePatch] = []
    scorer: list[ScorerPatch] = []
    remove: Removals = Removals()
    grade: list[GradeSpec] | None = None
    departments: DepartmentsSpec | None = None


# lists of tables with ids that an overlay patches like criteria: section -> its [remove] key
LISTS = {"category": "categories", "gate": "gates", "scorer": "scorers"}


@dataclass(frozen=True)
class Overlay:
    spec: OverlaySpec
    data: dict  # as read, so that the effective text keeps the author's values exactly
    path: str
    text: str
    sha256: str
    locator: Locator


def parse_overlay(raw: bytes, source: str) -> Overlay:
    toml = parse_toml(raw, source, "overlay")
    locator = toml.locator
    if "overlay" not in toml.data and "rulebook" in toml.data:
        raise InputError([locator.problem(("rulebook",), _("this is a rulebook, not an overlay (an overlay has an [overlay] "
                                                            "table naming its base); pass it with --rules"))])
    beyond = [locator.problem(path, message) for path, message in value_problems(toml.data)]
    if beyond:
        raise problems_in(source, "overlay", beyond)
    spec = read_model(OverlaySpec, toml, "overlay")
    both = [locator.problem((kind, index, "before"), _("give before or after, not both"))
            for kind, patches in (("criterion", spec.criterion), ("rule", spec.rule))
            for index, patch in enumerate(patches) if patch.before and patch.after]
    if both:
        raise problems_in(source, "overlay", both)
    return Overlay(spec, toml.data, source, toml.text, toml.sha256, locator)


@dataclass(frozen=True)
class RuleSources:
    """What an effective rulebook is made from, as bytes: the run store keeps exactly these."""

    base: tuple[str, bytes]  # (name, raw)
    overlays: tuple[tuple[str, bytes], ...] = ()
    sets: tuple[str, ...] = ()  # "name=value", in the order given

    @classmethod
    def read(cls, rules: str | Path, overlays=(), sets=()) -> RuleSources:
        return cls(read_source(rules, "rulebook"), tuple(read_source(path, "overlay") for path in overlays), tuple(sets))

    def effective(self) -> Rulebook:
        """The base itself when nothing changes it; otherwise the generated effective rulebook."""
        base = parse_rulebook(self.base[1], self.base[0])
        if not self.overlays and not self.sets:
            return base
        return apply(base, [parse_overlay(raw, name) for name, raw in self.overlays], self.sets)


def read_source(path: str | Path, what: str) -> tuple[str, bytes]:
    return str(path), read_file(path, what)


def load_effective(rules: str | Path, overlays=(), sets=()) -> Rulebook:
    """The rulebook to score with: the file itself, or the file with overlays and --set applied."""
    return RuleSources.read(rules, overlays, sets).effective()


@dataclass(frozen=True)
class _OriginLocator(Locator):
    """Places a key path of the effective rulebook in the file (or --set) it came from."""

    origins: dict = field(default_factory=dict)  # effective path prefix -> (locator of its file, path there)

    def problem(self, path: tuple, message: str) -> Problem:
        for size in range(len(path), -1, -1):
            if path[:size] in self.origins:
                locator, origin = self.origins[path[:size]]
                return locator.problem(origin + tuple(path[size:]), message)
        raise AssertionError("the empty path always has an origin")


@dataclass
class _Item:
    """A criterion or rule being merged, with the file and key path it comes from."""

    data: dict
    locator: Locator
    path: tuple
    rules: list[_Item] = field(default_factory=list)


def apply(base: Rulebook, overlays: list[Overlay], sets=()) -> Rulebook:
    data = tomllib.loads(base.text, parse_float=Decimal)
    origins: dict[tuple, tuple[Locator, tuple]] = {(): (base.locator, ())}
    criteria = [_Item({k: v for k, v in c.items() if k != "rule"}, base.locator, ("criterion", ci),
                      [_Item(r, base.locator, ("criterion", ci, "rule", ri)) for ri, r in enumerate(c.get("rule", []))])
                for ci, c in enumerate(data.get("criterion", []))]
    lists = {section: [_Item(d, base.locator, (section, i)) for i, d in enumerate(data.get(section, []))] for section in LISTS}
    info = base.spec.rulebook
    for overlay in overlays:
        _check_base(overlay, info)
        _merge(overlay, data, criteria, lists, origins)
    applied = _apply_sets(sets, data, origins)

    for section, items in lists.items():
        if items or section in data:
            data[section] = [item.data for item in items]
        for index, item in enumerate(items):
            origins[(section, index)] = (item.locator, item.path)

    data["criterion"] = []
    for ci, item in enumerate(criteria):
        origins[("criterion", ci)] = (item.locator, item.path)
        rules = []
        for ri, rule in enumerate(item.rules):
            origins[("criterion", ci, "rule", ri)] = (rule.locator, rule.path)
            rules.append(rule.data)
        data["criterion"].append({**item.data, "rule": rules} if rules else item.data)
    parts = [info.version] + [f"{o.spec.overlay.id}.{o.spec.overlay.version}" for o in overlays]
    if applied:
        parts.append("set(" + ",".join(f"{name}={_literal(value)}" for name, value in applied.items()) + ")")
    derived = {"base": {"id": info.id, "version": info.version, "sha256": base.sha256},
               "overlays": [{"id": o.spec.overlay.id, "version": o.spec.overlay.version, "sha256": o.sha256}
                            for o in overlays],
               "set": applied}
    data["rulebook"] = {**data["rulebook"], "version": "+".join(parts), "derived_from": derived}
    text = _render(data, base, overlays, applied)
    return parse_rulebook(text.encode("utf-8"), base.path, _OriginLocator(base.path, {}, origins))


def _check_base(overlay: Overlay, info) -> None:
    want = overlay.spec.overlay.base
    if (want.id, want.version) != (info.id, info.version):
        raise InputError([overlay.locator.problem(("overlay", "base"),
                                                  _('the overlay is for rulebook "{rulebook}" version {version}, '
                                                    'not "{base}" version {base_version}').format(
            rulebook=want.id, version=want.version, base=info.id, base_version=info.version))])


def _merge(overlay: Overlay, data: dict, criteria: list[_Item], lists: dict[str, list[_Item]], origins: dict) -> None:
    spec, raw, loc = overlay.spec, overlay.data, overlay.locator
    problems: list[Problem] = []
    for path, value in _leaves(raw.get("params", {}), ("params",)):
        if value == {}:
            problems.append(loc.problem(path, _("an empty table changes nothing (tables merge key by key); "
                                                "to remove a parameter, list it in [remove] params")))
            continue
        current = _at(data, path)
        if current is not None and _kind(current) != _kind(value):
            problems.append(loc.problem(path, _("{value} is a {kind}, but the base has a {base_kind} here ({base_value}); "
                                                "remove the parameter first to change its kind").format(
                value=_literal(value), kind=_kind_shown(_kind(value)), base_kind=_kind_shown(_kind(current)),
                base_value=_literal(current))))
            continue
        _put(data, path, value)
        origins[path] = (loc, path)
    for section in ("let", "department_fields"):
        for name, value in raw.get(section, {}).items():
            data.setdefault(section, {})[name] = value
            origins[(section, name)] = (loc, (section, name))
    for section in ("grade", "departments"):  # replaced whole
        if section in raw:
            data[section] = copy.deepcopy(raw[section])
            origins[(section,)] = (loc, (section,))

    for index, patch in enumerate(raw.get("criterion", [])):
        placed = spec.criterion[index]
        item = _Item({k: v for k, v in patch.items() if k not in ("rule", "before", "after")}, loc, ("criterion", index),
                     [_Item(r, loc, ("criterion", index, "rule", ri)) for ri, r in enumerate(patch.get("rule", []))])
        _place(criteria, item, placed, loc, ("criterion", index), "criterion", problems)

    for index, patch in enumerate(raw.get("rule", [])):
        placed = spec.rule[index]
        ids = [c.data["id"] for c in criteria]
        if placed.criterion not in ids:
            problems.append(loc.problem(("rule", index, "criterion"),
                                        _('unknown criterion "{criterion}"{hint}').format(
                                            criterion=placed.criterion, hint=closest(placed.criterion, ids))))
            continue
        rules = criteria[ids.index(placed.criterion)].rules
        item = _Item({k: v for k, v in patch.items() if k not in ("criterion", "before", "after")}, loc, ("rule", index))
        _place(rules, item, placed, loc, ("rule", index), "rule", problems)

    for section, items in lists.items():
        for index, patch in enumerate(raw.get(section, [])):
            item = _Item({k: v for k, v in patch.items() if k not in ("before", "after")}, loc, (section, index))
            _place(items, item, getattr(spec, section)[index], loc, (section, index), section, problems)

    removals = spec.remove
    for section, key in LISTS.items():
        for index, item_id in enumerate(getattr(removals, key)):
            ids = [i.data["id"] for i in lists[section]]
            if item_id in ids:
                del lists[section][ids.index(item_id)]
            else:
                problems.append(loc.problem(("remove", key, index), _('no {section} "{id}" to remove{hint}').format(
                    section=section, id=item_id, hint=closest(item_id, ids))))
    for index, criterion_id in enumerate(removals.criteria):
        ids = [c.data["id"] for c in criteria]
        if criterion_id in ids:
            del criteria[ids.index(criterion_id)]
        else:
            problems.append(loc.problem(("remove", "criteria", index),
                                        _('no criterion "{id}" to remove{hint}').format(
                                            id=criterion_id, hint=closest(criterion_id, ids))))
    for index, rule_id in enumerate(removals.rules):
        owner = next((c for c in criteria if rule_id in [r.data["id"] for r in c.rules]), None)
        if owner is None:
            known = [r.data["id"] for c in criteria for r in c.rules]
            problems.append(loc.problem(("remove", "rules", index), _('no rule "{id}" to remove{hint}').format(
                id=rule_id, hint=closest(rule_id, known))))
        else:
            owner.rules = [r for r in owner.rules if r.data["id"] != rule_id]
    for key, names in (("lets", "let"), ("params", "params"), ("department_fields", "department_fields")):
        for index, name in enumerate(getattr(removals, key)):
            table = data.get(names, {})
            if name in table:
                del table[name]
            else:
                problems.append(loc.problem(("remove", key, index), _('no {section} "{id}" to remove{hint}').format(
                    section=names, id=name, hint=closest(name, table))))
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InputError(problems, _("{file}: {n} problem(s) applying the overlay").format(file=overlay.path, n=len(problems)))


def _place(items: list[_Item], item: _Item, placed: Placement, loc: Locator, path: tuple, what: str,
           problems: list) -> None:
    """Same id: replaced in place, or moved when before/after is given; a new id: before/after, or at the end."""
    ids = [i.data["id"] for i in items]
    anchor = placed.before or placed.after
    if placed.id in ids:
        if anchor is None:
            items[ids.index(placed.id)] = item
            return
        del items[ids.index(placed.id)]
        ids.remove(placed.id)
    if anchor is None:
        items.append(item)
    elif anchor not in ids:
        key = "before" if placed.before else "after"
        message = (_('no {section} "{id}" to place it before{hint}') if key == "before" else
                   _('no {section} "{id}" to place it after{hint}'))
        problems.append(loc.problem(path + (key,), message.format(section=what, id=anchor, hint=closest(anchor, ids))))
    else:
        items.insert(ids.index(anchor) + (1 if placed.after else 0), item)


def _leaves(table: dict, prefix: tuple):
    """Key paths of a params table: nested tables merge key by key."""
    for key, value in table.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, prefix + (key,))
        else:
            yield prefix + (key,), copy.deepcopy(value)


def _at(data: dict, path: tuple):
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _put(data: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


SET_SOURCE = "--set"


def _apply_sets(sets, data: dict, origins: dict) -> dict:
    """--set name=value (name may be dotted into a table: points.A=32): an existing parameter, same kind of value."""
    applied: dict[str, Any] = {}
    problems: list[Problem] = []
    locator = Locator(SET_SOURCE, {})
    for argument in sets:
        name, sep, text = argument.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(Problem(SET_SOURCE, None, argument, _("expected name=value, such as points=4")))
            continue
        path = tuple(name.split("."))
        table = data.get("params", {})
        for depth, key in enumerate(path):
            if not isinstance(table, dict) or key not in table:
                names = list(table) if isinstance(table, dict) else []
                prefix = "params." + ".".join(path[:depth]) + "." if depth else "params."
                problems.append(Problem(SET_SOURCE, None, name, _('no parameter "{name}"{hint}; --set changes an existing '
                                                                   "parameter (add one with an overlay)").format(
                    name=prefix + key, hint=closest(key, names))))
                break
            table = table[key]
        else:
            value = _set_value(name, text.strip(), table, problems)
            if value is not None:
                _put(data, ("params",) + path, value)
                origins[("params",) + path] = (locator, (name,))
                applied[name] = value
    if problems:
        raise InputError(problems, _("{n} problem(s) in --set").format(n=len(problems)))
    return dict(sorted(applied.items()))  # the same settings in any order make the same rulebook


def _set_value(name: str, text: str, current, problems: list):
    try:
        value = tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except (tomllib.TOMLDecodeError, ValueError):  # ValueError: an integer of more than 4300 digits
        if isinstance(current, str):
            return text  # a text parameter: the words as given
        value = None
    kind = _kind(current)
    if kind == "table":
        problems.append(Problem(SET_SOURCE, None, name,
                                _("is a table; set its keys, such as {example}=...").format(
                                    example=f"{name}.{next(iter(current), 'key')}")))
        return None
    if value is None or _kind(value) != kind:
        message = (_('"{text}" is not a {kind} (the parameter is {current}); quote it for a text: {example}') if kind == "text"
                   else _('"{text}" is not a {kind} (the parameter is {current})'))
        problems.append(Problem(SET_SOURCE, None, name, message.format(
            text=text, kind=_kind_shown(kind), current=_literal(current), example=f"{name}='\"{text}\"'")))
        return None
    beyond = value_problems({"v": value})
    if beyond:
        problems.append(Problem(SET_SOURCE, None, name, beyond[0][1]))
        return None
    return value


def _kind(value) -> str:
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, dict):
        return "table"
    if isinstance(value, list):
        return "list"
    return "text" if isinstance(value, str) else type(value).__name__


def _kind_shown(kind: str) -> str:
    """A kind of _kind as messages name it."""
    shown = {"true/false value": pgettext("kind of a parameter", "true/false value"),
             "number": pgettext("kind of a parameter", "number"), "table": pgettext("kind of a parameter", "table"),
             "list": pgettext("kind of a parameter", "list"), "text": pgettext("kind of a parameter", "text")}
    return shown.get(kind, kind)


def _literal(value) -> str:
    return tomli_w.dumps({"v": value}).strip()[len("v = "):]


TOP_ORDER = ("rulebook", "params", "let", "department_fields", "rubric", "category", "criterion", "department", "departments",
             "gate", "scorer", "grade", "ranking", "calendar", "texts")


def _render(data: dict, base: Rulebook, overlays: list[Overlay], applied: dict) -> str:
    """The effective rulebook as TOML. No paths or clock: the same rules give the same bytes."""
    ordered = {key: data[key] for key in TOP_ORDER if key in data}
    ordered.update({key: value for key, value in data.items() if key not in ordered})
    info = base.spec.rulebook
    made = " + ".join([f"{info.id} {info.version}"] + [f"{o.spec.overlay.id} {o.spec.overlay.version}" for o in overlays]
                      + (["--set " + " ".join(f"{k}={_literal(v)}" for k, v in applied.items())] if applied else []))
    header = (f"# Effective rulebook: {made}\n"
              "# Generated by scoring from the files named in [rulebook.derived_from] (sha256 of each);\n"
              "# change those files, not this text.\n\n")
    return header + tomli_w.dumps(ordered)
