"""Random rulebooks from the rule language's grammar, and random case files to score them on.

A rulebook is built as TOML data (dicts and lists, `to_toml` writes it) so that the
differential tester can shrink it part by part. It draws from every construct the README
documents: binds of one to three events (`each`, `first`, `last`), conditions on one event,
joins between two, `exists` / `not exists` / `count` / `sum` over generators with conditions
on the generator's event and on bound events, `or` and `not`, arithmetic and functions on
dates, numbers, texts and enums, `coalesce`, lets (also naming lets defined after them),
`once`, `hit = "first"`, caps, floors, budgets (`base`), multipliers, department items per
case, per department (`each`) and rates, categories, scorers, gates, grades, tiers and the
ranking; `as_of`, the date the cases are judged at (the data's key "as_of", a setting of the
scoring call that `to_toml` leaves out). Most rulebooks load; the ones the product refuses are
counted by the tester.

Case files: one to four cases of one to three handlers from three departments, events of
random types in a short stretch of days (ties on the same date are common), ids e1..eN
shuffled (so e2/e10 ordering matters), optional fields left out (null), types left empty, and
events of departments that do not handle the case.
"""
from __future__ import annotations

import datetime as dt
import json
import random

import tomli_w

MODES = ["face_to_face", "phone", "wechat", "letter", "email", "other"]
OUTCOMES = ["A", "B", "C", "D"]
RATINGS = ["satisfied", "basically_satisfied", "dissatisfied"]
ENUMS = {"contact": ("mode", MODES), "reply": ("outcome", OUTCOMES), "feedback": ("rating", RATINGS)}
TYPES = ["assigned", "signed", "contact", "extension", "reply", "feedback", "published", "urged", "returned", "co_reply"]
# the types the rules name most: a short list keeps rules and timelines meeting
COMMON = ["assigned", "contact", "reply", "published", "extension", "feedback"]
DEPARTMENTS = ["D1", "D2", "D3"]
START = dt.date(2020, 3, 2)
DAYS = 12


class Gen:
    """Draws expressions of one kind (number, date, bool, text) over the names in scope."""

    def __init__(self, rng: random.Random, lets: dict[str, str], events: dict[str, str] | None = None,
                 category: bool = True):
        self.rng = rng
        self.category = category  # the case's category is decided after the lets: they cannot read it
        self.lets = lets  # name -> kind
        self.events = dict(events or {})  # bound name -> event type
        self.fresh = 0

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(list(seq))

    def var(self) -> str:
        self.fresh += 1
        return f"x{self.fresh}"

    def lit_date(self) -> str:
        return f"date('{(START + dt.timedelta(days=self.rng.randrange(-2, DAYS + 2))).isoformat()}')"

    def lit_number(self) -> str:
        return self.pick(["0", "1", "2", "3", "5", "0.5", "2.5", "-1", "10"])

    def event_var(self, types: tuple | None = None) -> str | None:
        names = [n for n, t in self.events.items() if types is None or t in types]
        return self.pick(names) if names else None

    # -------------------------------------------------------------- values
    def number(self, depth: int = 2) -> str:
        options = ["lit", "lit", "param", "count", "count"]
        if depth > 0:
            options += ["arith", "arith", "func", "cond", "between", "sum"]
        if self.event_var(("extension",)):
            options += ["days", "days"]
        if self.events:
            options += ["extra"]
        if any(k == "number" for k in self.lets.values()):
            options += ["let", "let"]
        if self.event_var(("contact",)):
            options += ["map"]
        choice = self.pick(options)
        if choice == "lit":
            return self.lit_number()
        if choice == "param":
            return self.pick(["params.n1", "params.n2", "params.half", "len(params.modes)",
                              "tier(count(events), params.tiers).pts", "mean([count(reply), params.n1, 2])",
                              "len(params.modes[0])", "count(e for e in case_events if e.role == 'co')"])
        if choice == "count":
            return f"count({self.source(depth)})"
        if choice == "sum":
            x = self.var()
            return f"sum({x}.days for {x} in extension{self.gen_cond(x, 'extension', depth - 1)})"
        if choice == "days":
            return f"{self.event_var(('extension',))}.days"
        if choice == "extra":
            return f"extra({self.event_var()}, 'w')"
        if choice == "let":
            return self.pick([n for n, k in self.lets.items() if k == "number"])
        if choice == "map":
            return f"params.pts[{self.event_var(('contact',))}.mode]"
        if choice == "between":
            f = self.pick(["days_between", "workdays_between"])
            return f"{f}({self.date(depth - 1)}, {self.date(depth - 1)})" if self.chance(0.6) else \
                f"({self.date(depth - 1)} - {self.date(depth - 1)})"
        if choice == "cond":
            return f"({self.number(depth - 1)} if {self.condition(depth - 1)} else {self.number(depth - 1)})"
        if choice == "func":
            f = self.pick(["abs", "round", "min", "max", "coalesce", "clamp"])
            if f == "abs":
                return f"abs({self.number(depth - 1)})"
            if f == "round":
                return f"round({self.number(depth - 1)}, {self.pick(['0', '1'])})"
            if f == "clamp":
                return f"clamp({self.number(depth - 1)}, 0, 5)"
            if f == "coalesce":
                return f"coalesce({self.number(depth - 1)}, {self.lit_number()})"
            return f"{f}({self.number(depth - 1)}, {self.number(depth - 1)})"
        op = self.pick(["+", "-", "*", "/"])
        right = self.pick(["2", "4", "0.5", "3"]) if op == "/" else self.number(depth - 1)
        return f"({self.number(depth - 1)} {op} {right})"

    def date(self, depth: int = 2) -> str:
        options = ["lit", "first", "first", "as_of"]
        if self.events:
            options += ["bound"] * 4
        if any(k == "date" for k in self.lets.values()):
            options += ["let", "let"]
        if depth > 0:
            options += ["shift", "shift", "func", "coalesce", "extreme"]
        choice = self.pick(options)
        if choice == "lit":
            return self.lit_date()
        if choice == "as_of":
            return "as_of"
        if choice == "bound":
            return f"{self.event_var()}.date"
        if choice == "let":
            return self.pick([n for n, k in self.lets.items() if k == "date"])
        if choice == "first":
            return f"{self.pick(['first', 'last'])}({self.pick(COMMON)}).date"
        if choice == "coalesce":
            return f"coalesce({self.date(depth - 1)}, {self.lit_date()})"
        if choice == "extreme":
            x = self.var()
            t = self.pick(COMMON)
            return f"{self.pick(['min', 'max', 'first', 'last'])}({x}.date for {x} in {t}{self.gen_cond(x, t, depth - 1)})"
        if choice == "func":
            f = self.pick(["add_days", "add_workdays", "next_workday", "add_months"])
            if f == "next_workday":
                return f"next_workday({self.date(depth - 1)})"
            n = self.pick(["1", "2", "3", "-1", "5", "0"]) if f != "add_months" else self.pick(["1", "0", "-1"])
            return f"{f}({self.date(depth - 1)}, {n})"
        return f"({self.date(depth - 1)} {self.pick(['+', '-'])} {self.pick(['1', '2', '3', '7'])})"

    def enum_test(self, name: str, event_type: str) -> str | None:
        if event_type in ENUMS:
            field, values = ENUMS[event_type]
            if self.chance(0.3):
                return f"{name}.{field} in {self.rng.sample(values, 2)!r}".replace('"', "'")
            return f"{name}.{field} {self.pick(['==', '!='])} '{self.pick(values)}'"
        if event_type == "extension":
            return f"{name}.days {self.pick(['>', '<=', '=='])} {self.pick(['7', '15', '30'])}"
        return None

    def source(self, depth: int) -> str:
        t = self.pick(COMMON + ["events", "case_events"]) if self.chance(0.9) else self.pick(TYPES)
        if self.chance(0.4) or depth <= 0:
            return t
        x = self.var()
        return f"{x} for {x} in {t}{self.gen_cond(x, t, depth - 1)}"

    def gen_cond(self, x: str, event_type: str, depth: int) -> str:
        """' if ...' about the generator's event, sometimes compared with a bound event."""
        parts = []
        for _ in range(self.pick([0, 1, 1, 2])):
            parts.append(self.about(x, event_type, depth, others=True))
        return (" if " + " and ".join(parts)) if parts else ""

    def about(self, name: str, event_type: str, depth: int, others: bool = False) -> str:
        """A condition about one event (and, with others, compared with one bound event)."""
        other = self.event_var() if others and self.events and self.chance(0.5) else None
        if other is not None and other != name:
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            left = f"{name}.date" if self.chance(0.7) else f"add_days({name}.date, {self.pick(['-2', '1', '3'])})"
            right = f"{other}.date" if self.chance(0.7) else f"({other}.date + {self.pick(['1', '2', '5'])})"
            if self.chance(0.15):
                field = self.pick(["id", "type", "department", "role"])
                return f"{name}.{field} {self.pick(['==', '!='])} {other}.{field}"
            return f"{left} {op} {right}" if self.chance(0.5) else f"{right} {op} {left}"
        enum = self.enum_test(name, event_type)
        choice = self.pick(["date", "date", "enum", "enum", "workday", "extra", "role", "id", "text"])
        if choice == "text":
            return self.pick([f"'1' in {name}.id", f"{name}.id < 'e5'", f"({name}.type + '/' + {name}.id) != 'reply/e1'",
                              f"{name}.department == handler.department", f"len({name}.id) == 2",
                              f"{name}.type in ['reply', 'contact', 'published']",
                              f"exists(e for e in case_events if e.date == {name}.date and e.department != {name}.department)"])
        if choice == "enum" and enum:
            return enum
        if choice == "workday":
            return f"{'not ' if self.chance(0.3) else ''}is_workday({name}.date)"
        if choice == "extra":
            return f"present(extra({name}, 'w'))" if self.chance(0.5) else f"extra({name}, 'w') > {self.lit_number()}"
        if choice == "role":
            return f"{name}.role == '{self.pick(['lead', 'split', 'co'])}'"
        if choice == "id":
            return f"{name}.id {self.pick(['==', '!='])} 'e{self.rng.randint(1, 9)}'"
        saved = self.events
        self.events = {}  # a date about this event alone
        try:
            right = self.date(depth - 1) if depth > 0 else self.lit_date()
        finally:
            self.events = saved
        return f"{name}.date {self.pick(['<', '<=', '>', '>=', '==', '!='])} {right}"

    def condition(self, depth: int = 2) -> str:
        """Any condition (used inside values, lets and context parts)."""
        options = ["cmp_num", "cmp_date", "agg", "case"]
        if depth > 0:
            options += ["boolop", "not"]
        if self.events:
            options += ["about", "about"]
        if any(k == "bool" for k in self.lets.values()):
            options += ["let"]
        choice = self.pick(options)
        if choice == "cmp_num":
            return f"{self.number(depth - 1)} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {self.number(depth - 1)}"
        if choice == "cmp_date":
            return f"{self.date(depth - 1)} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {self.date(depth - 1)}"
        if choice == "agg":
            if self.chance(0.5):
                return f"{'not ' if self.chance(0.4) else ''}exists({self.source(depth - 1)})"
            return f"count({self.source(depth - 1)}) {self.pick(['>=', '==', '<', '>'])} {self.pick(['0', '1', '2'])}"
        if choice == "case":
            return self.pick(["case.key", "not case.waived_f2f", "case.kind == 'proposal'", "rubric == 'r1'",
                              "handler.role == 'lead'", "present(extra(case, 'urgent'))", "department.cases > 1",
                              "present(first(reply))"] + (["category == 'k1'"] if self.category else []))
        if choice == "about":
            name = self.event_var()
            return self.about(name, self.events[name], depth - 1)
        if choice == "let":
            return self.pick([n for n, k in self.lets.items() if k == "bool"])
        if choice == "not":
            return f"not ({self.condition(depth - 1)})"
        return f"({self.condition(depth - 1)} {self.pick(['and', 'or'])} {self.condition(depth - 1)})"

    def text(self) -> str:
        parts = [self.pick(["", "r", "命中"])]
        for _ in range(self.pick([0, 1, 2])):
            name = self.event_var()
            choice = self.pick(["num", "date", "bound"] if name else ["num", "date"])
            if choice == "bound":
                parts.append("{" + f"{name}.{self.pick(['id', 'date', 'type', 'mode', 'role'])}" + "}")
            elif self.chance(0.2):
                parts.append("{percent(" + self.number(1) + ")}")
            elif choice == "num":
                parts.append("{" + self.number(1) + "}")
            else:
                parts.append("{" + self.date(1) + "}")
        return "|".join(parts)

    # -------------------------------------------------------------- a rule's when
    def when(self) -> str | None:
        parts = []
        for _ in range(self.pick([0, 1, 1, 1, 2, 2, 3, 4])):
            parts.append(self.conjunct())
        return " and ".join(parts) if parts else None

    def conjunct(self) -> str:
        names = list(self.events)
        shapes = ["context", "exists", "exists", "agg_flag"]
        if names:
            shapes += ["local", "local", "local", "or_local"]
        if len(names) >= 2:
            shapes += ["join", "join", "join"]
        shape = self.pick(shapes)
        if shape == "local":
            name = self.pick(names)
            return self.about(name, self.events[name], 2)
        if shape == "or_local":
            name = self.pick(names)
            other = name if self.chance(0.9) else self.pick(names)
            return f"({self.about(name, self.events[name], 1)} or {self.about(other, self.events[other], 1)})"
        if shape == "join":
            a, b = self.rng.sample(names, 2)
            if self.chance(0.2) and self.events[a] == self.events[b] and self.events[a] in ENUMS:
                field = ENUMS[self.events[a]][0]
                return f"{a}.{field} {self.pick(['==', '!='])} {b}.{field}"
            saved = self.events
            self.events = {a: saved[a]}
            left = self.date(1).replace(a, a)
            self.events = {b: saved[b]}
            right = self.date(1)
            self.events = saved
            if a not in left or b not in right:
                left, right = f"{a}.date", f"{b}.date"
            return f"{left} {self.pick(['<', '<=', '>', '>=', '==', '!='])} {right}"
        if shape == "exists":
            t = self.pick(COMMON + ["events"])
            x = self.var()
            neg = "not " if self.chance(0.5) else ""
            if self.chance(0.15):
                return f"{neg}exists({t})"
            parts = [self.about(x, t, 1, others=True) for _ in range(self.pick([1, 1, 2]))]
            return f"{neg}exists({x} for {x} in {t} if {' and '.join(parts)})"
        if shape == "agg_flag":
            x = self.var()
            t = self.pick(COMMON)
            cond = self.gen_cond(x, t, 1)
            if self.chance(0.7):
                return f"count({x} for {x} in {t}{cond}) {self.pick(['>=', '==', '<', '>'])} {self.pick(['0', '1', '2'])}"
            if self.chance(0.5):
                return f"sum({x}.days for {x} in extension{self.gen_cond(x, 'extension', 1)}) > {self.pick(['0', '10', '20'])}"
            return f"{self.number(2)} {self.pick(['>', '<=', '=='])} {self.number(1)}"
        saved = self.events
        self.events = {}
        try:
            return self.condition(2)
        finally:
            self.events = saved


def random_rulebook(rng: random.Random) -> dict:
    # later features draw from their own generator, seeded from rng's state without advancing it: the
    # rulebooks a seed gave before them keep their draws (tests/test_difftest.py's seed stays meaningful)
    more = random.Random(hash(rng.getstate()))
    data: dict = {"rulebook": {"id": "random", "title": "random", "version": "1"}}
    data["params"] = {"n1": rng.choice([1, 2, 3]), "n2": rng.choice([0, 5, 10]), "half": 0.5, "modes": ["phone", "email"],
                      "pts": {m: rng.choice([0, 1, 2.5]) for m in MODES},
                      "tiers": [{"below": 3, "pts": 1}, {"from": 3, "below": 6, "pts": 2}, {"from": 6, "pts": 3}]}
    lets: dict[str, str] = {}
    let_src: dict[str, str] = {}
    names = [f"l{i}" for i in range(rng.choice([0, 1, 2, 3]))]
    for name in names:
        kind = rng.choice(["number", "date", "bool"])
        lets[name] = kind
    for name in names:
        # a let may name any other let, also one defined after it (not itself, no cycle: only higher numbers)
        visible = {n: k for n, k in lets.items() if n > name}
        g = Gen(rng, visible, category=False)
        let_src[name] = {"number": g.number, "date": g.date, "bool": g.condition}[lets[name]](2)
    if let_src:
        data["let"] = let_src
    declared = rng.random() < 0.3
    if declared:
        data["department_fields"] = {"score": {"kind": "number", "min": 0, "max": 100}, "flag": "bool", "tags": "texts",
                                     "grp": "text"}
    rubrics = [{"id": "r1", "title": "主办", "roles": ["lead", "split"]}, {"id": "r2", "title": "会办", "roles": ["co"]}]
    if rng.random() < 0.3:
        rubrics = [{"id": "r1", "title": "全部", "roles": ["lead", "split", "co"]}]
    elif rng.random() < 0.2:
        rubrics = [{"id": "r1", "title": "主办", "roles": ["lead"]}]  # split and co in no rubric
    for rubric in rubrics:
        if rng.random() < 0.3:
            rubric["min"] = rng.choice([0, -1, "-params.n1"])
            rubric["max"] = rng.choice([3, 5, 10, "params.n1 + 2"])
    data["rubric"] = rubrics
    if rng.random() < 0.2:
        data["category"] = [{"id": "k1", "title": "建议", "of": "case.kind == 'suggestion'", "weight": 0.6},
                            {"id": "k2", "title": "提案", "of": "true", "weight": 0.4}]
        if rng.random() < 0.5:
            data["category"][0]["max"] = rng.choice([2, "params.n1"])
    criteria = []
    rule_ids = iter(range(1000))
    for index in range(rng.choice([1, 2, 2, 3, 3, 4])):
        criteria.append(_criterion(rng, index, lets, rubrics, rule_ids, declared, "category" in data, more))
    data["criterion"] = criteria
    # items scored on the department that read other items (a bonus stage unlocked by another item's points);
    # now and then a cycle, which the product refuses
    for criterion in criteria:
        if criterion.get("per") == "department" and more.random() < 0.35:
            other = more.choice(criteria)["id"]
            rule = criterion["rule"][0]
            rule["when"] = more.choice([f"coalesce(items.{other}, 0) >= 1", f"items.{other} < 0",
                                        f"not present(items.{other})"])
            rule["text"] = rule["text"] + f"（{{items.{other}}}）"
            rule.pop("each", None)
            if "{e}" in rule["text"]:
                rule["text"] = rule["text"].replace("{e}", "")
    # items outside the total (not with categories, where they are refused): some department items,
    # now and then all of them with no base from the cases (a total of nothing, ranked by an item)
    dept_level = [c for c in criteria if c.get("level") == "department"]
    nothing_in_total = "category" not in data and bool(dept_level) and more.random() < 0.1
    if "category" not in data:
        for criterion in dept_level:
            if nothing_in_total or more.random() < 0.2:
                criterion["in_total"] = False
    department: dict = {"method": rng.choice(["weighted_mean", "mean", "sum", "weighted_mean"])}
    if department["method"] == "weighted_mean":
        department["weights"] = {r["id"]: rng.choice([0.7, 0.3, 1, 0]) for r in rubrics}
    if rng.random() < 0.2:
        department["base"] = rng.choice([100, "params.n2 * 10"])
    if rng.random() < 0.3:
        department["min"], department["max"] = rng.choice([0, "params.n2 - 10"]), rng.choice([2, 5, 100, "params.n1 * 2"])
    department["decimals"] = rng.choice([0, 1, 2])
    data["department"] = department
    data["grade"] = [{"name": "优", "min": rng.choice([2, 3, 5])}, {"name": "良", "min": 1}, {"name": "差", "min": -100}]
    if nothing_in_total:  # no base from the cases and none fixed; grades band the total, so none
        department["method"] = "none"
        department.pop("weights", None)
        department.pop("base", None)
        del data["grade"]
    dept_items = [c["id"] for c in criteria if c.get("level") == "department" and "rate" not in c and c.get("rule")]
    if rng.random() < 0.3 and (dept_items or rng.random() < 0.5):
        gate: dict = {"id": "G1", "title": "门槛", "text": "门槛{total}"}
        if dept_items and rng.random() < 0.6:
            gate["criterion"] = rng.choice(dept_items)
        if "criterion" not in gate or rng.random() < 0.4:
            gate["when"] = rng.choice(["total < 3", "department.cases >= 2", f"items.{criteria[0]['id']} > 0",
                                       "department.flag" if declared else "true"])
        if rng.random() < 0.5:
            gate["total"] = rng.choice([0, 2, "params.n1"])
        gate["grade"] = "良" if rng.random() < 0.7 or "total" not in gate else None
        if more.random() < 0.25 and "category" not in data:  # on the department's place in the ranking: after it
            gate["when"] = more.choice(["ranking.from_last == 1", "ranking.rank <= 1 and total > 0"])
            gate["text"] = "第{ranking.rank}名"
        if nothing_in_total:  # no grades: the gate holds the total
            gate["grade"] = None
            gate.setdefault("total", 0)
        if gate["grade"] is None:
            del gate["grade"]
        data["gate"] = [gate]
    if declared and rng.random() < 0.5:
        data["scorer"] = [{"id": "s1", "title": "考评", "weight": 0.6, "score": "computed"},
                          {"id": "s2", "title": "自评", "weight": 0.4, "score": "coalesce(department.score, 0)"}]
    ranking = {"order": rng.choice(["desc", "asc"]), "ties": rng.choice(["shared", "dense"]),
               "min_cases": rng.choice([0, 0, 2])}
    if declared and rng.random() < 0.3:
        ranking["group"] = "department.grp"
    # not by an item that reads the ranking (refused: a cycle)
    rankable = [c for c in dept_level if "ranking." not in json.dumps(c, ensure_ascii=False)]
    if "category" not in data and rankable and (nothing_in_total or more.random() < 0.2):
        ranking["by"] = more.choice(rankable)["id"]
    data["ranking"] = ranking
    if rng.random() < 0.2:  # a local holiday and a working Sunday in the timelines' days
        holiday = START + dt.timedelta(days=rng.choice([d for d in range(DAYS) if d != 6]))  # not the Sunday
        data["calendar"] = {"extra_holidays": [holiday.isoformat()], "extra_workdays": ["2020-03-08"]}
    if rng.random() < 0.8:  # else null, as a library caller may leave it
        data["as_of"] = (START + dt.timedelta(days=rng.randrange(-2, DAYS + 2))).isoformat()
    return data


def _criterion(rng, index, lets, rubrics, rule_ids, declared, categories, more) -> dict:
    criterion: dict = {"id": f"C{index}", "title": f"项目{index}"}
    kind = rng.choices(["case", "department", "rate", "record"], [6, 2, 1, 1 if declared else 0.3])[0]
    if kind == "case" or (kind == "department" and rng.random() < 0.3):
        criterion["rubric"] = rng.choice(rubrics)["id"]
    if kind != "case":
        criterion["level"] = "department"
    if categories and rng.random() < 0.3:
        criterion["category"] = rng.choice(["k1", "k2"])
    if rng.random() < 0.3:
        criterion["max"] = rng.choice([1, 2, 3, "params.n1"])
    if rng.random() < 0.25:
        criterion["min"] = rng.choice([0, -1, "-params.n1"])
    if "max" in criterion and "min" in criterion:
        criterion["min"] = 0
        criterion["max"] = 3
    if rng.random() < 0.2:
        criterion["base"] = rng.choice([1, 2, "params.n1"])
    if rng.random() < 0.4:
        criterion["otherwise"] = rng.choice(["未得分", "无{count(events)}"] if kind == "case" else ["未得分"])
    if rng.random() < 0.25:
        criterion["hit"] = "first"
    if kind == "rate":
        g = Gen(rng, lets)
        g.events = {}
        criterion["rate"] = {"of": rng.choice(["rubric == 'r1'", "true", "handler.role != 'co'"]),
                             "hit": g.when() or "exists(contact)",
                             "points": rng.choice(["rate * 2", "-min(1, 2 * (1 - rate))", "hits - cases"]),
                             "text": "率{percent(rate)}（{hits}/{cases}）"}
        if more.random() < 0.3:  # a ratio of sums: two numbers per counted case, pooled (some cases break 0 <= n <= d)
            del criterion["rate"]["hit"]
            criterion["rate"]["numerator"], criterion["rate"]["denominator"] = more.choice([
                ("count(contact)", "count(contact) + count(reply)"),
                ("min(count(reply), params.n1)", "params.n1"),
                ("count(c for c in contact if c.mode == 'phone')", "count(contact)"),
                ("count(events)", "count(reply)"),
                ("0.5 if exists(reply) else 0", "1")])
            criterion["rate"]["points"] = more.choice(["rate * 2", "numerator - denominator", "-min(1, 2 * (1 - rate))"])
            criterion["rate"]["text"] = "率{percent(rate)}（{numerator}/{denominator}，{cases}件）"
        if rng.random() < 0.5:
            criterion["rate"]["empty"] = "无"
        return criterion
    if kind == "record":
        criterion["per"] = "department"
        rules = []
        for _ in range(rng.choice([1, 2])):
            rule = {"id": f"R{next(rule_ids)}", "points": rng.choice([-0.25, 1, "params.half"]), "text": "缺{e}"}
            if declared and rng.random() < 0.6:
                rule["each"] = "e in params.modes"
                rule["when"] = "e not in department.tags"
            else:
                rule["text"] = "记录"
                rule["when"] = rng.choice(["department.cases > 1", "department.lead >= 1"] +
                                          (["department.flag", "coalesce(department.score, 0) > 50"] if declared else []))
            rules.append(rule)
        if more.random() < 0.3 and not categories:  # a rule on the department's place in the ranking: after it
            rules[-1]["when"] = more.choice(["ranking.rank == 1", "ranking.from_last <= 2", "ranking.percentile >= 0.5",
                                             "not present(ranking.rank)", "ranking.of > 2 and ranking.rank <= 2"])
            rules[-1]["text"] = more.choice(["第{ranking.rank}名/{ranking.of}", "倒数第{ranking.from_last}名",
                                             "{ranking.percentile}"])
            rules[-1].pop("each", None)
        criterion["rule"] = rules
        return criterion
    if kind == "case" and rng.random() < 0.15:
        criterion["multiply"] = {"by": rng.choice(["2 if case.key else 1", "0.5", "params.n1"]),
                                 "text": "×{factor}（{points}）"}
    rules = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        bind = {}
        for name in ["a", "b", "c"][:rng.choice([0, 1, 1, 2, 2, 2, 3])]:
            t = rng.choice(COMMON) if rng.random() < 0.9 else rng.choice(TYPES)
            qualifier = rng.choice(["", "", "first ", "last "])
            bind[name] = f"{qualifier}{t}"
        g = Gen(rng, lets, {n: s.split()[-1] for n, s in bind.items()})
        rule: dict = {"id": f"R{next(rule_ids)}"}
        if bind:
            rule["bind"] = bind
        when = g.when()
        if when:
            rule["when"] = when
        # computed points: null is an error on the case (both sides say so), so mostly with a default
        points = g.number(2)
        rule["points"] = rng.choice([1, 2, -1, 0.5]) if rng.random() < 0.6 else \
            f"coalesce({points}, 0)" if rng.random() < 0.8 else points
        rule["text"] = g.text()
        if rng.random() < 0.2:
            rule["once"] = True
        rules.append(rule)
    criterion["rule"] = rules
    return criterion


def to_toml(data: dict) -> str:
    """The rulebook's TOML; calendar days are kept as ISO texts in the data (JSON can hold them) and written as dates.
    The as_of of the scoring is no part of the rulebook."""
    data = {key: value for key, value in data.items() if key != "as_of"}
    calendar = {key: [dt.date.fromisoformat(day) for day in days] for key, days in data.get("calendar", {}).items()}
    return tomli_w.dumps({**data, "calendar": calendar} if calendar else data)


def random_case_file(rng: random.Random, prefix: str = "C") -> list[dict]:
    cases = []
    for n in range(rng.choice([1, 2, 3, 4])):
        cases.append(_case(rng, f"{prefix}{n + 1}"))
    return cases


def _case(rng: random.Random, case_id: str) -> dict:
    handlers = rng.sample(DEPARTMENTS, rng.choice([1, 1, 2, 3]))
    roles = ["lead"] + ["co"] * (len(handlers) - 1)
    if len(handlers) >= 2 and rng.random() < 0.3:
        roles = ["split"] * len(handlers)
    types = rng.sample(COMMON, rng.choice([2, 3, 4, 5])) + rng.sample(TYPES, rng.choice([0, 1]))
    events = []
    for department in handlers + ([rng.choice(DEPARTMENTS)] if rng.random() < 0.2 else []):
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 6, 8])):
            t = rng.choice(types)
            event: dict = {"type": t, "date": (START + dt.timedelta(days=rng.randrange(DAYS))).isoformat(),
                           "department": department}
            if t in ENUMS:
                event[ENUMS[t][0]] = rng.choice(ENUMS[t][1])
            if t == "extension":
                event["days"] = rng.choice([7, 15, 30])
            if rng.random() < 0.2:
                event["w"] = rng.choice([0, 1, 2.5])
            events.append(event)
    rng.shuffle(events)
    ids = rng.sample(range(1, len(events) + 6), len(events))
    for event, number in zip(events, ids):
        event["id"] = f"e{number}"
    case = {"id": case_id, "kind": rng.choice(["suggestion", "proposal"]), "title": "t",
            "handlers": [{"department": d, "role": r} for d, r in zip(handlers, roles)], "events": events}
    if rng.random() < 0.3:
        case["key"] = True
    if rng.random() < 0.2:
        case["urgent"] = True
    return case


def random_records(rng: random.Random) -> dict[str, dict]:
    """Department records for the fields random rulebooks declare (some left out: null, or empty lists)."""
    records = {}
    for name in DEPARTMENTS:
        record: dict = {}
        if rng.random() < 0.8:
            record["score"] = rng.choice([40, 60, 90.5])
        if rng.random() < 0.8:
            record["flag"] = rng.random() < 0.5
        if rng.random() < 0.7:
            record["tags"] = rng.sample(MODES, rng.choice([0, 1, 2]))
        if rng.random() < 0.8:
            record["grp"] = rng.choice(["g1", "g2"])
        records[name] = record
    return records
