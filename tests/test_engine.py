"""scoring/engine.py: the durable_rules wrapper avoids every trap we measured.

tests/test_durable_rules_behaviour.py pins the traps as durable_rules itself shows them;
these tests show that MatchEngine does not fall into them.
"""
import inspect
import itertools
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

from scoring.base.errors import EngineError
from scoring.engine.durable import (
    MAX_FACTS,
    MAX_PATTERNS,
    MAX_TESTS_PER_NODE,
    RULES_PER_RULESET,
    MatchEngine,
    _node_keys,
    _partition,
    _rule_json,
)
from scoring.engine.rules import Check, Pattern, Rule

CTX = Pattern("c", (Check("k", "==", 1),))


def first_reply_rules():
    first = Rule("first", (CTX, Pattern("r", (Check("fr", "==", 1),)),
                           Pattern("q", (Check("fr", "==", 1), Check("o", "<", ref=("r", "o"))), negated=True)))
    no_contact_before = Rule("l3", first.patterns + (
        Pattern("x", (Check("fc", "==", 1), Check("d", "<=", ref=("r", "d"))), negated=True),))
    return [first, no_contact_before]


def fnv1a(text: str) -> int:  # durable_rules' fnv1Hash32 (xor, then multiply)
    value = 2166136261
    for byte in text.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


def test_fact_ids_never_collide_in_the_engines_32_bit_hash():
    ids = [str(n) for n in range(MAX_FACTS)] + ["end"]
    assert len({fnv1a(i) for i in ids}) == len(ids)
    assert fnv1a("40189") == fnv1a("797186")  # why there is a bound at all
    with pytest.raises(EngineError, match="facts in one session"):
        MatchEngine(first_reply_rules()).match([{"k": 1}] * MAX_FACTS)


def test_negation_is_right_in_every_order_of_the_facts():
    engine = MatchEngine(first_reply_rules())
    facts = [{"k": 1}, {"fr": 1, "o": 2, "d": 20}, {"fr": 1, "o": 0, "d": 10}, {"fc": 1, "o": 1, "d": 15}]
    # the first reply is fact 2 (o=0); a contact (day 15) comes after it, so L3 fires too
    for order in itertools.permutations(range(len(facts))):
        fired = engine.match([facts[i] for i in order])
        named = sorted((name, order[m["r"]]) for name, m in fired)
        assert named == [("first", 2), ("l3", 2)], order


def test_sessions_do_not_leak_into_each_other():
    engine = MatchEngine(first_reply_rules())
    a = [{"k": 1}, {"fr": 1, "o": 0, "d": 5}, {"fc": 1, "o": 1, "d": 1}]
    b = [{"k": 1}, {"fr": 1, "o": 0, "d": 5}]
    fresh = MatchEngine(first_reply_rules()).match(b)
    engine.match(a)
    assert engine.match(b) == fresh


def test_facts_no_rule_can_take_are_left_out_instead_of_failing_the_batch():
    engine = MatchEngine(first_reply_rules())
    assert engine.match([{"k": 1}, {"unrelated": 1}, {"fr": 1, "o": 0, "d": 5}]) != []


def test_no_thread_is_started():
    before = threading.active_count()
    engine = MatchEngine(first_reply_rules())
    for _ in range(50):
        engine.match([{"k": 1}, {"fr": 1, "o": 0, "d": 5}])
    assert threading.active_count() == before


def test_more_rules_than_one_ruleset_holds_are_partitioned():
    rules = [Rule(f"r{i}", (CTX, Pattern("e", (Check("kind", "==", f"x{i}"),)))) for i in range(2 * RULES_PER_RULESET + 50)]
    engine = MatchEngine(rules)
    assert len(engine._rulesets) == 3
    fired = engine.match([{"k": 1}, {"kind": "x7"}, {"kind": "x420"}])
    assert sorted(name for name, _ in fired) == ["r420", "r7"]


@pytest.mark.parametrize("rule, message", [
    (Rule("big", (CTX,) + tuple(Pattern(f"p{i}", (Check("a", "==", i),)) for i in range(MAX_PATTERNS))), "joins"),
    (Rule("two", (Pattern("p", (Check("a", "==", 1), Check("b", "==", 2))),)), "exactly one plain test"),
    (Rule("ref", (Pattern("p", (Check("a", "==", 1), Check("b", "<", ref=("q", "b")))), Pattern("q", (Check("a", "==", 2),)))),
     "not an earlier positive pattern"),
    (Rule("neg", (Pattern("n", (Check("a", "==", 1),), negated=True), Pattern("p", (Check("a", "==", 2),)))),
     "positive pattern after a negated one"),
    (Rule("alias", (Pattern("m", (Check("a", "==", 1),)),)), "alias"),
    (Rule("done", (CTX,)), "reserved"),
    (Rule("idattr", (Pattern("p", (Check("id", "==", 1),)),)), "bad test"),
])
def test_rules_the_engine_would_mishandle_are_refused(rule, message):
    with pytest.raises(EngineError) as info:
        MatchEngine([rule])
    assert message in str(info.value)


def test_facts_the_engine_would_mishandle_are_refused():
    engine = MatchEngine(first_reply_rules())
    with pytest.raises(EngineError, match="properties"):
        engine.match([{f"a{i}": 1 for i in range(300)}])
    with pytest.raises(EngineError, match="reserved"):
        engine.match([{"k": 1, "sid": "2"}])


def test_join_patterns_carry_the_guard_and_negations_follow_the_end_marker():
    [_, l3] = first_reply_rules()
    patterns = _rule_json(l3)
    assert [next(iter(p)) for p in patterns] == ["c", "r", "end", "q$not", "x$not"]
    assert patterns[3]["q$not"]["$and"][-1] == {"$and": [{"fr": 1}]}


@pytest.mark.upstream
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_wrapped_engine_makes_no_invalid_reads_under_valgrind():
    """The out-of-bounds read of unguarded join patterns does not happen through MatchEngine."""
    # the rules are passed as their source, not imported from this module: importing it loads pytest and
    # the rest of the suite's imports, which cost more under valgrind than the matching itself
    code = textwrap.dedent("""
        import random
        from scoring.engine.durable import MatchEngine
        from scoring.engine.rules import Check, Pattern, Rule
        CTX = %s
        %s
        engine = MatchEngine(first_reply_rules())
        rng = random.Random(1)
        for _ in range(150):
            facts = [{"k": 1}]
            for o in range(rng.randint(0, 6)):
                facts.append({rng.choice(["fr", "fc"]): 1, "o": o, "d": rng.randint(1, 30)})
            rng.shuffle(facts)
            engine.match(facts)
        print("done")
    """) % (repr(CTX), inspect.getsource(first_reply_rules))
    run = subprocess.run(["valgrind", "-q", "--error-limit=no", sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "done" in run.stdout, run.stderr[-2000:]
    engine_errors = [line for line in run.stderr.splitlines() if "durable_rules_engine" in line]
    assert not engine_errors, "\n".join(engine_errors[:20])


def test_many_distinct_join_tests_on_one_node_are_partitioned_too():
    """More than 512 distinct tests under one alpha node hang registration; join tests count.

    180 rules (fewer than one ruleset holds) with three contact patterns each put 540
    distinct join tests under the contact node: they must be spread over rulesets."""
    rules = [Rule(f"j{i}", (CTX, Pattern("r", (Check("fr", "==", 1),)))
                  + tuple(Pattern(f"x{n}", (Check("fc", "==", 1), Check(f"d{i}_{n}", "<=", ref=("r", "d")))) for n in range(3)))
             for i in range(180)]
    groups = _partition(rules)
    assert len(groups) >= 2
    for group in groups:
        under_contact = {key for rule in group for parent, key in _node_keys(rule) if parent == (("fc", "==", 1, None),)}
        assert len(under_contact) <= MAX_TESTS_PER_NODE
    engine = MatchEngine(rules)  # would hang in registration if they were not spread
    facts = [{"k": 1}, {"fr": 1, "d": 5}] + [{"fc": 1, f"d7_{n}": 4} for n in range(3)]
    assert [name for name, _ in engine.match(facts)] == ["j7"]


def test_a_fact_missing_a_join_attribute_is_left_out_not_an_error():
    """A null join value leaves the attribute out; such a fact cannot join, and must not
    make the engine refuse the whole batch."""
    engine = MatchEngine(first_reply_rules())
    fired = engine.match([{"k": 1}, {"fr": 1, "o": 0, "d": 5}, {"fc": 1, "o": 1}])  # the contact has no "d"
    assert sorted(name for name, _ in fired) == ["first", "l3"]


def test_a_refused_batch_is_reported_and_leaves_the_engine_usable():
    """If the engine refuses a batch, the error says why, the session is drained before it is
    deleted (deleting it with its actions pending corrupted memory: "double free"), and
    the next match works. Run in a child, with glibc's malloc perturbation on."""
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from test_engine import first_reply_rules
        from scoring.base.errors import EngineError
        from scoring.engine.durable import MatchEngine
        engine = MatchEngine(first_reply_rules())
        handle, _ = engine._rulesets[0]
        for attempt in range(50):
            try:  # a fact no rule takes, slipped past the filter on purpose
                engine._run(handle, str(engine._session), [{"zz": 1, "id": "0", "sid": str(engine._session)},
                                                          {"end": 1, "id": "end", "sid": str(engine._session)}])
            except EngineError as exc:
                assert "a fact no rule can take" in str(exc), exc
            else:
                raise AssertionError("no error")
            assert [n for n, _ in engine.match([{"k": 1}, {"fr": 1, "o": 0, "d": 5}])] == ["first", "l3"]
        print("ok")
    """) % str(__import__("pathlib").Path(__file__).parent)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "MALLOC_PERTURB_": "165"})
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
