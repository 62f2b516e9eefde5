"""Score one case: for each handler, match the rules and write the case's ledger lines.

For each handler of the case (one matching session each): the handler's events in
timeline order, the lets, one fact per event carrying the flags and join values the
compiled rules need, a context fact; then the engine's matches become ledger lines with
the rule's points and sentence, and the criteria's caps, "first rule wins", "otherwise"
sentences and the rubric's clamp are applied. Every point of the case total is a line.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from scoring.domain.cases import Case, timeline_key
from scoring.domain.fields import record_fields
from scoring.lang import values as V
from scoring.lang.evaluator import BY_TYPE

from .compiler import (
    AS_OF,
    CONTEXT_ALIAS,
    ORDER_ATTR,
    CompiledCriterion,
    CompiledRule,
    CompiledRulebook,
    slot_attr,
)
from .durable import MatchEngine


@dataclass
class Line:
    """One ledger line: points earned or lost, with the rule and the events behind them."""

    criterion: str | None  # None for the adjustments of a whole case or department total
    rule: str | None  # None for lines the engine adds (otherwise, cap, clamp, base, rate)
    points: int | Fraction
    evidence: tuple[str, ...]  # event ids (department lines: "case/event")
    text: str
    kind: str = "rule"  # rule | otherwise | base | cap | floor | multiplier | clamp | rate | weight | scorer | gate
    case: str | None = None  # department lines: the case the line comes from
    category: str | None = None  # with [[category]]: the category whose subtotal the line is part of


@dataclass
class RateMark:
    eligible: bool
    hit: bool
    evidence: tuple[str, ...]
    # a ratio of sums: the case's numbers, when it is counted (eligible)
    numerator: int | Fraction | None = None
    denominator: int | Fraction | None = None


@dataclass
class HandlerResult:
    case: str
    department: str
    role: str
    rubric: str | None  # None: the role is in no rubric; the case counts for department items only
    kind: str
    title: str
    total: int | Fraction | None
    category: str | None = None  # with [[category]]: the first category the case belongs to
    lines: list[Line] = field(default_factory=list)
    department_lines: list[Line] = field(default_factory=list)  # lines of department-level rules
    rates: dict[str, RateMark] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringSetting:
    """What one scoring call sets for all its cases."""

    departments: dict[str, dict] | None = None  # what rules see as `department`: counts over the case file, records
    only: str | None = None  # score the handlers of this department alone (the others' events are still read)
    as_of: dt.date | None = None  # the date the cases are judged at (`as_of` in expressions)


class CaseError(Exception):
    """A rule failed on a case's data; names the case, the handler and the rule."""

    def __init__(self, case: str, department: str, where: str, message: str):
        super().__init__(f"case {case}, {department}: {where}: {message}")
        self.case, self.department, self.where, self.message = case, department, where, message


def ratio_numbers(rate, env: dict, where: list, criterion: str) -> tuple:
    """A counted case's numerator and denominator: numbers, 0 <= numerator <= denominator (a rate of items)."""
    found = []
    for name in ("numerator", "denominator"):
        where[0] = f"{criterion} rate {name}"
        value = getattr(rate, name)(env)
        if value is None:
            raise V.EvalError(f"the {name} must be a number, got null; write coalesce(..., 0) if none means 0")
        if V.kind(value) != "number":
            raise V.EvalError(f"the {name} must be a number, got {V.kind(value)} ({V.format_value(value)})")
        if value < 0:
            raise V.EvalError(f"the {name} {V.format_value(value)} is negative")
        found.append(V.normal(Fraction(value)))
    where[0] = f"{criterion} rate"
    if found[0] > found[1]:
        raise V.EvalError(f"the numerator {V.format_value(found[0])} is above the denominator {V.format_value(found[1])}")
    return tuple(found)


class CaseEvaluator:
    """Scores cases with one compiled rulebook; its engine rules are registered once, when it is made."""

    def __init__(self, compiled: CompiledRulebook, setting: ScoringSetting | None = None):
        self.c = compiled
        self.configure(setting or ScoringSetting())
        self.engine = MatchEngine(compiled.engine_rules)
        # per event type: the flags and join values its facts need (None: any event type)
        self.flags_for = {t: [f for f in compiled.event_flags if f.event_type in (t, None)] for t in compiled.event_types}
        self.values_for = {t: [v for v in compiled.event_values if v.event_type in (t, None)] for t in compiled.event_types}
        self.rate_rules = {c.rate.hit_rule: c for c in compiled.criteria if c.rate is not None and c.rate.hit_rule}

    def configure(self, setting: ScoringSetting) -> None:
        """The setting of the cases scored from now on."""
        self.departments = {name: V.Record("department", values) for name, values in (setting.departments or {}).items()}
        self.only = setting.only
        self.as_of = setting.as_of

    def close(self) -> None:
        self.engine.close()

    def evaluate(self, case: Case) -> list[HandlerResult]:
        case_record, case_events = case_record_of(case), case_events_of(case)
        results = []
        for handler in sorted(case.handlers, key=lambda h: h.department):
            if self.only is None or handler.department == self.only:
                results.append(self._handler(case, case_record, case_events, handler))
        return results

    def _handler(self, case: Case, case_record: V.Record, case_events: list[V.Record], handler) -> HandlerResult:
        department = handler.department
        where = ["lets"]
        try:
            env, records = handler_environment(self.c, case_record, case_events, handler, where,
                                               self.departments.get(department), self.as_of)
            facts, fact_records = self._facts(env, records, where)
            where[0] = "matching"
            fired = self.engine.match(facts)
            return self._ledger(case, handler, env, fired, fact_records, where)
        except V.EvalError as exc:
            raise CaseError(case.id, department, where[0], str(exc)) from None

    def _facts(self, env, records, where):
        context = {}
        for flag in self.c.context_flags:
            where[0] = "rule conditions on the case"
            if flag.test(env):
                context[flag.attr] = 1
        facts = [context]
        fact_records = [None]
        for record in records:
            copies: dict[int, dict] = {}  # slot -> the event's fact for the patterns of that slot
            event_type = record.fields["type"]
            for flag in self.flags_for[event_type]:
                if flag.test is not None:
                    env[flag.var] = record
                    where[0] = f"condition on {record.fields['id']}"
                    if not V.truthy(flag.test(env)):
                        continue
                for slot in flag.slots:
                    copies.setdefault(slot, {})[slot_attr(flag.attr, slot)] = 1
            if not copies:
                continue  # no rule can use this event
            shared = {ORDER_ATTR: record.order}
            for value in self.values_for[event_type]:
                env[value.var] = record
                where[0] = f"value compared for {record.fields['id']}"
                # null is written as null, never left out: a join that reads a field the other fact lacks
                # fails the whole assertion in the engine, and null compares false there as here
                shared[value.attr] = _encode(value.expr(env), value.ordering, value.expect)
            for slot in sorted(copies):
                facts.append({**copies[slot], **shared})
                fact_records.append(record)
        return facts, fact_records

    def _ledger(self, case, handler, env, fired, fact_records, where) -> HandlerResult:
        rubric = env["rubric"]
        category = env["category"]
        result = HandlerResult(case.id, handler.department, handler.role, rubric, case.kind,
                               self.c.domain.case_title(case), None, category)
        for criterion in self.c.criteria:
            if criterion.rate is not None:
                where[0] = f"{criterion.id} rate"
                eligible = V.truthy(criterion.rate.of(env))
                result.rates[criterion.id] = RateMark(eligible, False, ())
                if eligible and criterion.rate.numerator is not None:
                    numerator, denominator = ratio_numbers(criterion.rate, env, where, criterion.id)
                    result.rates[criterion.id] = RateMark(True, False, (), numerator, denominator)
        by_rule: dict[str, list[tuple[tuple, list]]] = {}
        for rule_name, matched in fired:
            events = {alias: fact_records[index] for alias, index in matched.items() if alias != CONTEXT_ALIAS}
            if rule_name in self.rate_rules:
                criterion = self.rate_rules[rule_name]
                mark = result.rates[criterion.id]
                result.rates[criterion.id] = RateMark(mark.eligible, True, _ids(events.values()))
                continue
            rule = self.c.rules[rule_name]
            evidence = sorted((events[alias] for alias in rule.evidence), key=lambda r: r.order)
            # the earliest evidence first; two firings on the same events (a, b and b, a) by their
            # bound events in bind order, so that `once` and the order of lines never depend on the engine
            key = (tuple(r.order for r in evidence), tuple(events[alias].order for alias in rule.variables))
            by_rule.setdefault(rule_name, []).append((key, events))

        case_lines: list[Line] = []
        for criterion in self.c.criteria:
            if (criterion.rate is not None or criterion.per == "department"
                    or (criterion.rubric is not None and criterion.rubric != rubric)
                    or (criterion.category is not None and criterion.category != category)):
                continue
            if criterion.level == "department":
                # the base, caps and the "otherwise" sentence apply to the department's sum (rollup)
                lines = self._criterion_lines(criterion, by_rule, env, where, otherwise=False)
                lines += self._multiplier_lines(criterion, lines, env, where)
                result.department_lines.extend(
                    Line(line.criterion, line.rule, line.points, line.evidence, line.text, line.kind, case.id) for line in lines)
            else:
                lines = (base_lines(criterion, self.c.texts)
                         + self._criterion_lines(criterion, by_rule, env, where, otherwise=True))
                lines += cap_lines(criterion, sum((line.points for line in lines), 0), self.c.texts)
                case_lines.extend(lines + self._multiplier_lines(criterion, lines, env, where))
        if rubric is not None:
            spec = self.c.rubric_of(handler.role)
            case_lines += clamp_lines(sum((line.points for line in case_lines), 0), spec.min, spec.max,
                                      self.c.texts["case_clamp"])
            result.lines = case_lines
            result.total = sum((line.points for line in case_lines), 0)
        return result

    def _criterion_lines(self, criterion: CompiledCriterion, by_rule, env, where, otherwise: bool) -> list[Line]:
        lines: list[Line] = []
        for rule in criterion.rules:
            matches = sorted(by_rule.get(rule.name, []), key=lambda m: m[0])
            if rule.once:
                matches = matches[:1]  # the earliest events win
            for _, events in matches:
                lines.append(self._line(rule, events, env, where))
            if lines and criterion.hit == "first":
                break
        if not lines and otherwise:
            text = ""
            if criterion.otherwise is not None:
                where[0] = f"{criterion.id} otherwise"
                text = criterion.otherwise(env)
            lines.append(Line(criterion.id, None, 0, (), text, "otherwise"))
        return lines

    def _multiplier_lines(self, criterion: CompiledCriterion, lines: list[Line], env, where) -> list[Line]:
        """(factor - 1) x the item's points of this case, when the item has a multiplier other than 1."""
        if criterion.multiply is None:
            return []
        points = sum((line.points for line in lines), 0)
        where[0] = f"{criterion.id} multiplier"
        factor = criterion.multiply.by(env)
        if V.kind(factor) != "number":
            raise V.EvalError(f"a multiplier must be a number, got {V.kind(factor)} ({V.format_value(factor)})")
        if factor == 1 or points == 0:
            return []
        env.update(factor=factor, points=points)
        text = criterion.multiply.text(env)
        return [Line(criterion.id, None, V.normal(Fraction(points) * (factor - 1)), (), text, "multiplier")]

    def _line(self, rule: CompiledRule, events: dict, env, where) -> Line:
        for alias, var in rule.variables.items():
            env[var] = events[alias]
        where[0] = f"rule {rule.id} points"
        points = rule.points(env)
        if V.kind(points) != "number":
            raise V.EvalError(f"points must be a number, got {V.kind(points)} ({V.format_value(points)})")
        where[0] = f"rule {rule.id} text"
        text = rule.text(env)
        return Line(rule.criterion.id, rule.id, points, _ids(events[a] for a in rule.evidence), text)


def _ids(records) -> tuple[str, ...]:
    """The ids of a firing's events in timeline order, each once (a witness may be a bound event too)."""
    return tuple(dict.fromkeys(r.fields["id"] for r in sorted(records, key=lambda r: r.order)))


def case_record_of(case: Case) -> V.Record:
    return V.Record("case", {name: getattr(case, name) for name in record_fields(type(case))},
                    V.from_data(case.model_extra or {}))


def case_events_of(case: Case) -> list[V.Record]:
    """Every event of the case in timeline order, each with the role of its department (`case_events`)."""
    roles = {h.department: h.role for h in case.handlers}
    found = []
    for order, event in enumerate(sorted(case.events, key=timeline_key(case))):
        fields = {name: getattr(event, name) for name in record_fields(type(event))}
        fields["role"] = roles.get(event.department)
        found.append(V.Record("event", fields, V.from_data(event.model_extra) if event.model_extra else {}, order))
    return found


def handler_environment(compiled: CompiledRulebook, case_record: V.Record, case_events: list[V.Record], handler,
                        where: list | None = None, department: V.Record | None = None, as_of: dt.date | None = None):
    """What a handler's expressions see: its events in timeline order, by type, the case, its department and the lets."""
    where = where if where is not None else ["lets"]
    records = []
    by_type: dict[str, list] = {}
    for record in case_events:
        if record.fields["department"] == handler.department:
            # a handler's own events are ordered among themselves: first/last and the engine's joins use it
            record = V.Record("event", record.fields, record.extras, len(records))
            records.append(record)
            by_type.setdefault(record.fields["type"], []).append(record)
    rubric = compiled.rubric_of(handler.role)
    env = {
        BY_TYPE: by_type, "events": records, "case_events": case_events, "case": case_record,
        "rubric": rubric.id if rubric else None, "category": None, AS_OF: as_of,
        "department": department or V.Record("department", {"name": handler.department}),
        "handler": V.Record("handler", {"department": handler.department, "role": handler.role},
                            V.from_data(handler.model_extra or {})),
    }
    for name, fn in compiled.lets:
        where[0] = f"let {name}"
        env[name] = fn(env)
    for category in compiled.categories:
        where[0] = f"category {category.id}"
        if V.truthy(category.of(env)):
            env["category"] = category.id
            break
    return env, records


def base_lines(criterion: CompiledCriterion, texts: dict) -> list[Line]:
    """The points an item starts from (a budget that deductions take away from)."""
    if criterion.base is None:
        return []
    text = texts["item_base"].format(criterion=criterion.title, points=V.format_value(criterion.base))
    return [Line(criterion.id, None, criterion.base, (), text, "base")]


def cap_lines(criterion: CompiledCriterion, subtotal, texts: dict) -> list[Line]:
    """The line that brings a criterion's subtotal back to its max or min, if needed."""
    if criterion.max is not None and subtotal > criterion.max:
        text = texts["cap"].format(criterion=criterion.title, limit=V.format_value(criterion.max))
        return [Line(criterion.id, None, criterion.max - subtotal, (), text, "cap")]
    if criterion.min is not None and subtotal < criterion.min:
        text = texts["floor"].format(criterion=criterion.title, limit=V.format_value(criterion.min))
        return [Line(criterion.id, None, criterion.min - subtotal, (), text, "floor")]
    return []


def clamp_lines(total, low, high, template: str, **names) -> list[Line]:
    """The line that brings a case or department total into [low, high], if needed."""
    clamped = total
    if low is not None:
        clamped = max(clamped, low)
    if high is not None:
        clamped = min(clamped, high)
    if clamped == total:
        return []
    text = template.format(min=V.format_value(low), max=V.format_value(high), **names)
    return [Line(None, None, clamped - total, (), text, "clamp")]


ORDERED = ("number", "date", "datetime")  # the kinds the engine orders between events


def _encode(value, ordering: bool, expect: str):
    """A value as the engine compares it; None (null in the fact, which compares false) for null."""
    if value is None:
        return None
    kind = V.kind(value)
    if ordering:
        if kind not in ORDERED or (expect in ORDERED and kind != expect):
            wanted = expect if expect in ORDERED else "a date or a number"
            raise V.EvalError(f"compared with {wanted}, but the value is {kind} ({V.format_value(value)})")
        # exact: the engine module ranks them before the native engine compares them
        if kind == "datetime":
            return value.toordinal() * 1440 + value.hour * 60 + value.minute
        return value.toordinal() if kind == "date" else value
    # equality: kind-tagged text, so 5 never equals "5"
    if kind == "number":
        return f"n:{Fraction(value)}"
    if kind == "date":
        return f"d:{value.isoformat()}"
    if kind == "datetime":
        return f"m:{value.isoformat()}"
    if kind == "bool":
        return f"b:{int(value)}"
    if kind == "text":
        return f"t:{value}"
    raise V.EvalError(f"cannot compare {kind} values between events")
