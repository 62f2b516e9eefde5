"""The only module that talks to durable_rules; everything it must not do is handled here.

The rest of the program describes rules as plain `Rule`/`Pattern`/`Check` values and calls
`MatchEngine.match(facts)`, which returns, for each rule that fired, the facts it matched.
This module turns those into durable_rules rulesets and drives its native engine
(`durable_rules_engine`, the C core under durable_rules' Python layer) directly.

What we measured of durable_rules 2.0.28, and what this module does about each
(tests/test_durable_rules_behaviour.py pins each trap as durable_rules shows it;
tests/test_engine.py checks that this module avoids it):

* The Python DSL has operator-precedence and alias traps. -> Rulesets are generated as
  JSON definitions; the DSL is never used.
* The Python host (`durable.engine.Host`) starts timer threads that dispatch queued
  actions; with them a long run segfaulted. Its actions swallow exceptions into the state,
  and its Closure object reserves names (`s`, `m`, `post`, ...). -> We do not use the Host.
  We call the native engine: assert the facts, then take the matched frames one by one
  (start_action_for_state / complete_and_start_action). No Python runs inside the engine,
  so nothing can be swallowed, and no thread is ever started.
* Memory bug: when a test that compares two facts (a join) sits inside an "$and" and is
  false, the engine's short-circuit skips past the end marker of the expression sequence
  and reads beyond the array (valgrind: invalid reads in reduceExpressionSequence); it
  segfaults depending on the heap. -> Every pattern with a join test ends with a nested
  "$and" repeating its plain test (the guard), which puts a second end marker where the
  overrun stops.
* Negation is not retractive: a blocking fact asserted after the match completed does
  not cancel it, and a negation placed before the last positive pattern misjudged about
  5% of random fact orders in our measurements, even with a final marker. -> Every rule
  ends with an end-marker fact asserted last, and all negated patterns come *after* the
  marker in the rule, so they are tested once, when every fact is present.
* `delete_state` of a session in which no rule fired segfaults. -> Every ruleset has a
  rule on the end marker alone, so at least one rule fires in every session.
* A fact that no rule can take makes assert_facts fail for the whole batch, and a fact
  that lacks the attribute of a join test is not taken by that pattern. -> A pattern is
  one plain equality test (decided before asserting: the caller computes a flag per
  pattern) plus join tests, and a fact is asserted into a ruleset only if some pattern of
  it takes the fact whole: the plain test passes and every attribute its join tests read
  is present (a fact without them cannot take part in a match there). Should the engine
  still refuse a batch, its session is drained before it is deleted, or abandoned.
* Identical facts (same id or content) are rejected as duplicates, and fact and session
  ids are compared by a 32-bit hash (FNV-1a: "40189" and "797186" collide). -> Facts get
  the ids "0", "1", ... whose hashes are distinct below MAX_FACTS (checked by a test), a
  session takes at most MAX_FACTS facts; one session id, one live session at a time,
  deleted after every match.
* 256 rules on one alpha node segfault registration (257+: error 108), a join of more
  than 16 facts fails on assert, a fact of more than 254 properties (sid and id included)
  returns a garbage state whose use segfaults, more than 512 distinct tests under one
  node hang registration, and a pattern of more than 27 join tests fails registration
  (error 113: an expression sequence holds 32). A fact walks the alpha network with a stack
  of 64 nodes: every join test under a node it matches is pushed, so 65 two-event join
  rules whose second pattern starts with the same test fail on assert (error 303) for
  almost every case. -> Rules are spread over several rulesets of at most
  RULES_PER_RULESET rules, each small enough for that stack (MAX_STACK); rules and facts
  beyond the other limits are refused when the rulebook is compiled (`rule_problem`, and
  the compiler counts the properties of each kind of fact), so a worker never meets them.
* Mixed types compare strangely ("5" <= 5 is true, True < 5 is true), a missing field
  compares false for every operator (also !=). -> The compiler only ever compares values
  of one kind (numbers with numbers; equality on tagged text), and leaves a field out
  for a null value, so "null compares false" holds the same way in both places.
* Numbers are compared as machine numbers: integers beyond 64 bits all saturate (10^30 >
  10^29 is false), and fractions would have to be rounded to doubles. -> In each session,
  every number a join test reads is replaced by its rank among the session's numbers
  (0, 1, 2, ...): their order and equality are those of the exact values.
"""
from __future__ import annotations

import itertools
import json

import durable_rules_engine as native

from scoring.base.errors import EngineError

from .rules import Check, Pattern, Rule

END_TEST = ("end", 1)  # the end-marker fact's only attribute
RULES_PER_RULESET = 200  # durable_rules fails past ~256 rules sharing one alpha node
MAX_PATTERNS = 16  # positive + negated patterns, the end marker included
MAX_PROPERTIES = 250  # ours; with sid and id, durable_rules breaks past 254
MAX_FACTS = 100_000  # fact ids "0".."99999" have distinct 32-bit hashes
MAX_TESTS_PER_NODE = 400  # registration hangs past 512 distinct tests under one node
MAX_JOIN_TESTS = 27  # per pattern: 28 fail registration (error 113)
MAX_STACK = 56  # the nodes a fact can have waiting at once, below the engine's 64 (error 303)
OPERATORS = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
RESERVED_ATTRIBUTES = {"id", "sid", "$s", END_TEST[0]}

_names = itertools.count()


class MatchEngine:
    """Registers rules once; then matches one set of facts at a time."""

    def __init__(self, rules: list[Rule]):
        for rule in rules:
            _check_rule(rule)
        # per ruleset: what its patterns need of a fact, to leave out facts it cannot take
        self._rulesets: list[tuple[int, dict]] = []
        # the attributes join tests compare (their numbers are ranked, see above)
        self._compared = frozenset(attr for rule in rules for p in rule.patterns for t in p.tests if t.ref is not None
                                   for attr in (t.attr, t.ref[1]))
        self._session = 1
        for group in _partition(rules):
            definition = {rule.name: {"all": _rule_json(rule)} for rule in group}
            definition[_DONE] = {"all": [{_END_ALIAS: {END_TEST[0]: END_TEST[1]}}]}
            roots: dict[tuple, set[frozenset]] = {}  # plain test -> the join attributes of each pattern
            for rule in group:
                for p in rule.patterns:
                    roots.setdefault((p.tests[0].attr, p.tests[0].value), set()).add(
                        frozenset(t.attr for t in p.tests if t.ref is not None))
            try:
                handle = native.create_ruleset(f"scoring{next(_names)}", json.dumps(definition, ensure_ascii=False))
            except Exception as exc:
                raise EngineError(f"the matching engine refused the rules: {exc}") from None
            self._rulesets.append((handle, roots))

    def match(self, facts: list[dict]) -> list[tuple[str, dict[str, int]]]:
        """Rules fired on these facts: (rule name, {alias: index of the fact in `facts`})."""
        if len(facts) >= MAX_FACTS:
            raise EngineError(f"{len(facts)} facts in one session; the engine takes fewer than {MAX_FACTS}")
        for fact in facts:
            if len(fact) > MAX_PROPERTIES:
                raise EngineError(f"a fact has {len(fact)} properties; the engine takes at most {MAX_PROPERTIES}")
            bad = RESERVED_ATTRIBUTES.intersection(fact)
            if bad:
                raise EngineError(f"fact attribute names reserved by the engine: {sorted(bad)}")
        facts = self._ranked(facts)
        session = str(self._session)
        end = {END_TEST[0]: END_TEST[1], "id": "end", "sid": session}
        fired: list[tuple[str, dict[str, int]]] = []
        for handle, roots in self._rulesets:
            payload = [{**fact, "id": str(index), "sid": session} for index, fact in enumerate(facts)
                       if _takes(roots, fact)]
            payload.append(end)  # last: see the notes on negation
            fired.extend(self._run(handle, session, payload))
        return fired

    def _ranked(self, facts: list[dict]) -> list[dict]:
        """The facts with each compared number replaced by its rank among them (exact numbers in, small integers out)."""
        compared = self._compared
        numbers = {value for fact in facts for attr, value in fact.items() if attr in compared and type(value) is not str}
        if not numbers:
            return facts
        rank = {value: index for index, value in enumerate(sorted(numbers))}
        return [{attr: rank[value] if attr in compared and type(value) is not str else value for attr, value in fact.items()}
                for fact in facts]

    def _run(self, handle: int, session: str, payload: list[dict]) -> list[tuple[str, dict[str, int]]]:
        try:
            result, state = native.assert_facts(handle, json.dumps(payload, ensure_ascii=False))
        except native.error as exc:  # nothing was asserted (a limit we do not know of): the session is left
            self._session += 1
            raise EngineError(f"the matching engine failed: {exc}") from None
        fired = []
        done = False
        action = native.start_action_for_state(handle, state) if result in (0, 1) else None
        frame = action[1] if action else None
        while frame:
            for rule_name, matched in json.loads(frame).items():
                if rule_name == _DONE:
                    done = True
                else:
                    fired.append((rule_name, {alias: int(fact["id"]) for alias, fact in matched.items()
                                              if alias != _END_ALIAS}))
            frame = native.complete_and_start_action(handle, state)
        if done:
            native.delete_state(handle, session)  # safe: a rule fired in it (see above)
        else:
            self._session += 1  # deleting it could corrupt memory: leave it, use a new one
        if result != 0:
            reason = {1: "a fact no rule can take", 2: "a duplicate fact"}.get(result, f"code {result}")
            raise EngineError(f"the matching engine rejected the facts ({reason})")
        if not done:
            raise EngineError("the matching engine did not process the end marker")
        return fired

    def close(self) -> None:
        for handle, _ in self._rulesets:
            native.delete_ruleset(handle)
        self._rulesets = []


_DONE = "done"
_END_ALIAS = "end"


def _takes(roots: dict, fact: dict) -> bool:
    """Whether some pattern takes the fact whole: its plain test, and its join attributes."""
    for item in fact.items():
        needs = roots.get(item)
        if needs is not None and any(attrs.issubset(fact.keys()) for attrs in needs):
            return True
    return False


def rule_problem(rule: Rule) -> str | None:
    """Why the engine cannot take this rule, in the words of a rule author; None when it can.
    The compiler asks, with the rule's place in the rulebook."""
    if len(rule.patterns) + 1 > MAX_PATTERNS:
        return (f"the engine joins at most {MAX_PATTERNS - 2} events in one rule, and this one needs "
                f"{len(rule.patterns) - 1} (its events, each exists() and not exists(), and one for each first/last); "
                "split it into two rules or compute a part in a let")
    for pattern in rule.patterns:
        joins = sum(1 for test in pattern.tests if test.ref is not None)
        if joins > MAX_JOIN_TESTS:
            return (f"{joins} comparisons between one event and the events before it; the engine takes at most "
                    f"{MAX_JOIN_TESTS}: compute a part in a let")
    return None


def _check_rule(rule: Rule) -> None:
    def refuse(message: str):
        raise EngineError(f"rule {rule.name}: {message}")

    if rule.name == _DONE:
        refuse("this rule name is reserved")
    problem = rule_problem(rule)
    if problem:
        refuse(problem)
    earlier: set[str] = set()  # positive aliases a join may refer to
    for index, pattern in enumerate(rule.patterns):
        if pattern.alias in earlier or pattern.alias in ("m", _END_ALIAS) or not pattern.alias.isidentifier():
            refuse(f"bad or repeated alias {pattern.alias!r}")
        if not pattern.negated and any(p.negated for p in rule.patterns[:index]):
            refuse("a positive pattern after a negated one")
        plain = [test for test in pattern.tests if test.ref is None]
        if len(plain) != 1 or pattern.tests[0] is not plain[0] or plain[0].op != "==":
            refuse(f"pattern {pattern.alias} must have exactly one plain test, an equality, first")
        for test in pattern.tests:
            if test.op not in OPERATORS or test.attr in RESERVED_ATTRIBUTES:
                refuse(f"bad test {test}")
            _encode_value(test.value) if test.ref is None else None
            if test.ref is not None and test.ref[0] not in earlier:
                refuse(f"{pattern.alias} refers to {test.ref[0]}, which is not an earlier positive pattern")
        if not pattern.negated:
            earlier.add(pattern.alias)


def _rule_json(rule: Rule) -> list[dict]:
    positives = [p for p in rule.patterns if not p.negated]
    negated = [p for p in rule.patterns if p.negated]
    patterns = [_pattern_json(p) for p in positives]
    patterns.append({_END_ALIAS: {END_TEST[0]: END_TEST[1]}})
    patterns.extend(_pattern_json(p) for p in negated)  # after the marker: see module notes
    return patterns


def _pattern_json(pattern: Pattern) -> dict:
    tests = [_test_json(test) for test in pattern.tests]
    if len(tests) > 1:
        tests.append({"$and": [tests[0]]})  # the guard against the overrun: see module notes
    body = tests[0] if len(tests) == 1 else {"$and": tests}
    return {pattern.alias + ("$not" if pattern.negated else ""): body}


def _test_json(test: Check) -> dict:
    value = {test.ref[0]: test.ref[1]} if test.ref is not None else _encode_value(test.value)
    operator = OPERATORS[test.op]
    return {test.attr: value} if operator is None else {operator: {test.attr: value}}


def _encode_value(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EngineError(f"the engine compares numbers and texts only, not {value!r}")
    return value


def _partition(rules: list[Rule]) -> list[list[Rule]]:
    """Groups of rules small enough for one ruleset (see the limits above)."""
    groups: list[list[Rule]] = []
    tests_per_node: dict = {}
    current: list[Rule] = []
    for rule in rules:
        added: dict = {}
        for parent, test in _node_keys(rule):
            added.setdefault(parent, set()).add(test)
        merged = {parent: tests_per_node.get(parent, set()) | tests for parent, tests in added.items()}
        too_many = any(len(tests) > MAX_TESTS_PER_NODE for tests in merged.values())
        if current and (len(current) >= RULES_PER_RULESET or too_many or _stack({**tests_per_node, **merged}) > MAX_STACK):
            groups.append(current)
            current, tests_per_node = [], {}
        current.append(rule)
        for parent, tests in added.items():
            tests_per_node.setdefault(parent, set()).update(tests)
    if current or not groups:
        groups.append(current)
    return groups


def _stack(children: dict) -> int:
    """The most nodes a fact can have waiting at once on its walk down the alpha network: on the
    way to any node, the children of each node above it that the fact can match (the engine pushes
    every matching child, and every join test, before it takes the next): every join test, and
    of the equality tests one per attribute (a fact has one value for it)."""
    def pushed(node: tuple) -> int:
        tests = children.get(node, ())
        return len({t[0] for t in tests if t[1] == "==" and t[3] is None}) + sum(
            1 for t in tests if t[1] != "==" or t[3] is not None)

    waiting: dict[tuple, int] = {(): pushed(())}
    deepest = waiting[()]
    for parent in sorted(children, key=len):  # a chain before the chains that extend it
        above = waiting.get(parent, 0)
        for test in children[parent]:
            chain = parent + (test,)
            waiting[chain] = above + pushed(chain)
            deepest = max(deepest, waiting[chain])
    return deepest


def _node_keys(rule: Rule):
    """(parent test chain, test) for each test: the shape of the alpha network (join tests
    are alpha nodes too, whose comparison the engine then makes against the joined fact; rules
    share a plain test, not a join test, as measured: 65 rules with the same join overflow)."""
    for pattern in rule.patterns:
        chain: tuple = ()
        for test in pattern.tests:
            key = (test.attr, test.op, test.value, test.ref, None if test.ref is None else rule.name)
            yield chain, key
            chain = chain + (key,)
