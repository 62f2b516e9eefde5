"""Nothing of the reference scheme is in the program: change the file, the scores follow."""
import re
from fractions import Fraction

from casekit import LEAD, ROOT, case, departments, ev, points, reference_text, score


def perfect_lead(case_id="C1", key=False):
    return case([ev("assigned", "2020-03-10"), ev("signed", "2020-03-11"), ev("contact", "2020-04-01", mode="face_to_face"),
                 ev("reply", "2020-06-15", outcome="B"), ev("feedback", "2020-06-20", rating="satisfied"),
                 ev("published", "2020-06-16")], case_id=case_id, key=key)


def co_only(case_id, replied):
    return case([ev("assigned", "2020-03-10", "丙局"), ev("assigned", "2020-03-10", LEAD), ev("co_reply", replied, LEAD)],
                handlers=(("丙局", "lead"), (LEAD, "co")), case_id=case_id)


def changed(*pairs):
    text = reference_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_other_numbers():
    # reply 3 working days late (due Jun 10): 20 - 2*3 = 14 by default; 30 - 3*3 = 21 after the change
    assert points(score([perfect_lead()])[("C1", LEAD)], "L4") == 14
    text = changed(("reply_points = 20", "reply_points = 30"), ("late_penalty_per_workday = 2", "late_penalty_per_workday = 3"))
    assert points(score([perfect_lead()], text)[("C1", LEAD)], "L4") == 21


def test_other_weights():
    cases = [perfect_lead("C1"), co_only("C2", "2020-04-14")]  # lead 88 (5+5+0+14+24+30+10), co 80
    lead, co = 88, 80
    assert departments(cases)[LEAD].base == Fraction(7, 10) * lead + Fraction(3, 10) * co
    text = changed(("weights = { lead = 0.7, co = 0.3 }", "weights = { lead = 0.5, co = 0.5 }"))
    assert departments(cases, text)[LEAD].base == Fraction(lead + co, 2)


def test_other_items():
    bonus = '''
[[criterion]]
id = "K1"
title = "重点提案调研"
rubric = "lead"
otherwise = "非重点提案或未开展调研"

[[criterion.rule]]
id = "K1"
bind = { c = "contact" }
when = "case.key and c.mode == 'face_to_face' and c.date < replied_on"
once = true
points = 3
text = "重点提案，{c.date}面商调研"

# ---------------------------------------------------------------- co-handler rubric'''
    text = changed(("# ---------------------------------------------------------------- co-handler rubric", bonus),
                   ('[[criterion]]\nid = "L7"', '[[criterion]]\nid = "L7"\nmax = 0'))
    key = score([perfect_lead(key=True)], text)[("C1", LEAD)]
    plain = score([perfect_lead(key=False)], text)[("C1", LEAD)]
    assert [(line.rule, line.points) for line in key.lines if line.criterion == "K1"] == [("K1", 3)]
    assert points(plain, "K1") == 0
    assert points(key, "L7") == 0 and [line.kind for line in key.lines if line.criterion == "L7"] == ["rule", "cap"]
    assert key.total == plain.total + 3


def test_other_grade_bands_and_ranking():
    text = changed(('name = "优秀"\nmin = 90', 'name = "优秀"\nmin = 95'), ('ties = "shared"', 'ties = "dense"'))
    result = departments([perfect_lead("C1"), co_only("C2", "2020-04-14")], text)[LEAD]
    assert result.total < 95 and result.grade == "良好"


def test_the_program_does_not_know_the_reference_scheme():
    """No criterion id, grade name, parameter or title of the reference rulebook in the code."""
    reference = reference_text()
    words = set(re.findall(r'^id = "([^"]+)"', reference, re.M)) | set(re.findall(r'^name = "([^"]+)"', reference, re.M))
    words |= set(re.findall(r"^(\w+) = ", reference.split("[params]")[1].split("[let]")[0], re.M))
    words |= {"面商", "督办", "主办/分办件", "会办件"}
    words -= {"lead", "co"}  # rubric ids that are also role names of the case format
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "scoring").rglob("*.py"))
    found = sorted(w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", code))
    assert found == []
