"""Build small case histories in tests and score them in-process with a real rulebook."""
from __future__ import annotations

import functools
import itertools
from pathlib import Path

from scoring.domain.cases import Case
from scoring.engine.compiler import compile_rulebook
from scoring.engine.evaluate import CaseEvaluator, HandlerResult
from scoring.engine.rollup import roll_up
from scoring.rulebook.load import parse_rulebook

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "rules" / "proposal-handling.toml"
SAMPLE = ROOT / "samples" / "cases-2020.jsonl"

LEAD = "甲局"
CO = "乙局"


def ev(type_: str, date: str, dept: str = LEAD, **fields) -> dict:
    return {"type": type_, "date": date, "department": dept, **fields}


def case(events=(), handlers=((LEAD, "lead"),), case_id: str = "C1", kind: str = "proposal", **extra) -> dict:
    """A case dict; events get ids e1, e2, ... in the order given."""
    counter = itertools.count(1)
    return {"id": case_id, "kind": kind, "title": "测试提案", "proposer": "张委员",
            "handlers": [{"department": d, "role": r} for d, r in handlers],
            "events": [{"id": e.get("id") or f"e{next(counter)}", **{k: v for k, v in e.items() if k != "id"}} for e in events],
            **extra}


@functools.cache
def evaluator_for(text: str, path: str = "test.toml") -> CaseEvaluator:
    """One evaluator (and one set of native rulesets) per distinct rulebook text."""
    return CaseEvaluator(compile_rulebook(parse_rulebook(text.encode("utf-8"), path)))


def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def score(cases: list[dict], rules_text: str | None = None) -> dict[tuple[str, str], HandlerResult]:
    """(case id, department) -> HandlerResult, scored in this process."""
    evaluator = evaluator_for(rules_text or reference_text())
    results = {}
    for data in cases:
        for result in evaluator.evaluate(Case.model_validate(data)):
            results[(result.case, result.department)] = result
    return results


def departments(cases: list[dict], rules_text: str | None = None):
    evaluator = evaluator_for(rules_text or reference_text())
    results = [r for data in cases for r in evaluator.evaluate(Case.model_validate(data))]
    return {d.department: d for d in roll_up(evaluator.c, results)}


def lines_of(result: HandlerResult, criterion: str):
    return [line for line in result.lines if line.criterion == criterion]


def points(result: HandlerResult, criterion: str):
    return sum(line.points for line in lines_of(result, criterion))


def without_steps(text: str, *criteria: str) -> str:
    """A rulebook's text with the `step` of each named criterion taken out (every shipped rulebook
    declares its steps: a test of what an untracked item does makes one)."""
    blocks = text.split("[[criterion]]\n")
    for criterion in criteria:
        heads = ["\n" + block.split("[[criterion.rule]]")[0] for block in blocks]
        [index] = [i for i, head in enumerate(heads) if f'\nid = "{criterion}"\n' in head]
        lines = blocks[index].split("\n")
        steps = [line for line in lines if line.startswith("step = ")]
        assert len(steps) == 1, (criterion, steps)
        blocks[index] = "\n".join(line for line in lines if not line.startswith("step = "))
    return "[[criterion]]\n".join(blocks)


def rulebook_problems(text: str) -> list[str]:
    """The located problems a rulebook's text is refused with (it must be refused)."""
    import pytest

    from scoring.base.errors import InputError
    with pytest.raises(InputError) as info:
        compile_rulebook(parse_rulebook(text.encode("utf-8"), "book.toml"))
    return [str(p) for p in info.value.problems]


def line_of(text: str, fragment: str, after: str = "") -> int:
    """The line of a text where `fragment` first stands (after `after`, when given)."""
    start = text.index(after) if after else 0
    return text[:text.index(fragment, start)].count("\n") + 1
