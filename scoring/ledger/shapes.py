"""The JSON documents the tool writes: their format ids and their shapes, in one place.

Every document names its kind in its "format" key. The ids are spelled once each, as a
`Literal` type (what a shape's "format" key holds) and as a constant of that type (what the
code writes and checks); a type checker holds the two together, and so does a test.

The shapes are `TypedDict`s: what the builders return, and where the published JSON Schemas
(schemas/*.schema.json, made by scoring.ledger.schemas) come from. A key present only in
some runs is `NotRequired` (a ledger's "categories" only with [[category]]); a key that is
always there but may be null has `| None`. No shape allows keys it does not declare.

Standard library only: importing this module loads neither pydantic nor the matching engine.
No `from __future__ import annotations` here: on Python 3.11 a TypedDict does not see
`NotRequired` in an annotation that is a string, and would call every key required.
"""
from typing import Any, Final, Literal, NotRequired, TypedDict

LedgerFormat = Literal["scoring-ledger/1"]
SelfCheckFormat = Literal["scoring-self-check/1"]
BulletinFormat = Literal["scoring-bulletin/2"]
DiffFormat = Literal["scoring-diff/1"]
VerifyFormat = Literal["scoring-verify/1"]
RuleTestsFormat = Literal["scoring-rule-tests/1"]
CombinedFormat = Literal["scoring-combined/1"]

LEDGER: Final[LedgerFormat] = "scoring-ledger/1"  # score --format json; explain --format json says it too
SELF_CHECK: Final[SelfCheckFormat] = "scoring-self-check/1"
BULLETIN: Final[BulletinFormat] = "scoring-bulletin/2"
DIFF: Final[DiffFormat] = "scoring-diff/1"  # diff --format json; replay --format json
VERIFY: Final[VerifyFormat] = "scoring-verify/1"
RULE_TESTS: Final[RuleTestsFormat] = "scoring-rule-tests/1"
COMBINED: Final[CombinedFormat] = "scoring-combined/1"  # combine --format json
RUN_STORE: Final = "scoring-run-store/1"  # not a JSON document: the run store's SQLite file says it in its meta table

# A JSON number: points and totals rounded half up (scoring.ledger.document.number), written
# without a fraction when whole. `float` takes ints too, for the type checker and the schema.
Number = float
Date = str  # YYYY-MM-DD

LineKind = Literal["rule", "otherwise", "base", "cap", "floor", "multiplier", "clamp", "rate", "weight", "scorer", "gate"]
# A case's kind and a handler's role: the ids the rulebook's domain file declares (scoring/domains/), so
# any text here; the case format's schema (`scoring schema --domain NAME`) lists a domain's values.
CaseKind = str
Role = str
Level = Literal["case", "department"]


# ---------------------------------------------------------------- the head every ledger-like document has

class Engine(TypedDict):
    """The versions that made the document ("unknown" when a package is not installed)."""

    scoring: str
    durable_rules: str


class Source(TypedDict):
    """A rule file an effective rulebook was made from."""

    id: str
    version: str
    sha256: str


class DerivedFrom(TypedDict):
    """What an effective rulebook was made from: the base, each overlay, each --set (name: value)."""

    base: Source
    overlays: list[Source]
    set: dict[str, Any]


class RulebookEntry(TypedDict):
    """The rulebook scored: sha256 of its effective text; derived_from with overlays or --set."""

    id: str
    version: str
    title: str
    sha256: str
    derived_from: NotRequired[DerivedFrom]


class Skipped(TypedDict):
    """A case left out (--skip-invalid): invalid in the file (with its line), or failing a rule (line null)."""

    case: str | None
    line: int | None
    problems: list[str]


# ---------------------------------------------------------------- the ledger (scoring-ledger/1)

class Alias(TypedDict):
    """A department written under an alias the rulebook declares ([departments] aliases): scored as the department."""

    alias: str
    department: str
    cases: list[str]


class SimilarDepartments(TypedDict):
    """Two department names that look like one department, in a rulebook that declares none: scored apart."""

    departments: list[str]
    cases: list[int]  # how many cases each name handles
    why: str


class PeriodEntry(TypedDict):
    """The quarter or month scored: the cases first assigned from `first` to `last`, judged as of `ends` (later events
    are not scored: `after_closing`); `outside` cases of the file were assigned outside it and left out."""

    period: str  # 2020-Q2, 2020-05
    first: Date
    last: Date
    ends: Date
    outside: int


class LedgerInput(TypedDict):
    """The cases scored: sha256 of their content (cases by id, events by id), so any order gives the same."""

    sha256: str
    cases: int
    handlers: int
    skipped: list[Skipped]
    departments_sha256: NotRequired[str]  # only when a department records file was given
    aliases: NotRequired[list[Alias]]  # only when a department was written under an alias
    similar_departments: NotRequired[list[SimilarDepartments]]  # only when names look like one department
    as_of: NotRequired[Date | None]  # only when the rulebook reads as_of: the date the cases were judged at
    after_closing: NotRequired[int]  # events dated after the rulebook's closing date, not scored (when there are)
    period: NotRequired[PeriodEntry]  # only for a rulebook assessed per quarter or month: the period scored


class CaseLine(TypedDict):
    """A line of a case's ledger: the points of one rule firing, or what the engine adds (kind).
    With [[category]] the case names its category, not its lines."""

    criterion: str | None
    rule: str | None
    kind: LineKind
    points: Number
    evidence: list[str]  # event ids
    text: str


class DepartmentLine(TypedDict):
    """A line of a department's own ledger (base, department items, caps, clamps, weights, scorers, gates)."""

    criterion: str | None
    rule: str | None
    kind: LineKind
    points: Number
    category: NotRequired[str]  # with [[category]]
    case: str | None  # the case a department item's line comes from
    evidence: list[str]  # "case/event" ids
    text: str


class RubricEntry(TypedDict):
    rubric: str
    title: str
    cases: int
    mean: Number | None
    weight: Number | None


class CategoryEntry(TypedDict):
    category: str
    title: str
    cases: int
    subtotal: Number
    weight: Number


class ScorerEntry(TypedDict):
    scorer: str
    title: str
    score: Number
    weight: Number


class CriterionEntry(TypedDict):
    """An item's points: in the department's total, or beside it (in_total false)."""

    category: NotRequired[str]  # with [[category]]: the subtotal it counts in
    criterion: str
    title: str
    level: Level
    points: Number
    in_total: NotRequired[bool]  # written (false) only for an indicator reported beside the total (in_total = false)


class CaseEntry(TypedDict):
    """One case of one handler: its total and its lines, which add up to it."""

    case: str
    kind: CaseKind
    title: str
    role: Role
    rubric: str | None  # null: the role is in no rubric; the case counts for department items only
    category: NotRequired[str]  # with [[category]]
    total: Number | None
    lines: list[CaseLine]


class DepartmentEntry(TypedDict):
    """A department's result: its own lines add up to its total."""

    department: str
    group: NotRequired[str | None]  # when the ranking has peer groups
    rank: int | None  # null: not ranked (fewer scored cases than the ranking needs, or none the rate it is by counts)
    rank_by: NotRequired[str]  # with [ranking] by: the department item whose points the rank is by, not the total
    total: Number
    grade: str | None  # null: in no band
    cases_scored: int
    base: Number
    rubrics: list[RubricEntry]
    categories: NotRequired[list[CategoryEntry]]  # with [[category]]
    scorers: NotRequired[list[ScorerEntry]]  # with [[scorer]]
    criteria: list[CriterionEntry]
    lines: list[DepartmentLine]
    # with items outside the total: their lines, which are not the total's (the total's lines add up to it)
    indicator_lines: NotRequired[list[DepartmentLine]]
    cases: list[CaseEntry]


class ExclusionDecision(TypedDict):
    """A decision on a request to leave a case out of the assessment (剔除) or on an appeal (申诉)."""

    case: str
    department: str | None  # None: every department handling the case
    kind: Literal["exclusion", "appeal"]
    decision: Literal["approved", "upheld", "rejected"]  # approved (an exclusion) and upheld (an appeal) take effect
    reason: str
    decided_by: str
    decided_on: Date


class ExclusionEffect(TypedDict):
    """A department a granted decision took cases from: its result, and its result had none been granted."""

    department: str
    excluded: int  # its cases taken out of the assessment
    total: Number | None  # None: no case of it is left to score
    rank: int | None
    total_without: Number | None  # scored with every case of the file (None: not ranked then either)
    rank_without: int | None


class Exclusions(TypedDict):
    """The decisions file (--exclusions): sha256 of its decisions in any order, each decision, and its effect."""

    sha256: str
    decisions: list[ExclusionDecision]
    effect: list[ExclusionEffect]


class LedgerDocument(TypedDict):
    """The whole result of a run (`scoring score --format json`)."""

    format: LedgerFormat
    engine: Engine
    rulebook: RulebookEntry
    input: LedgerInput
    exclusions: NotRequired[Exclusions]  # only when a decisions file was given
    departments: list[DepartmentEntry]


class CombinedPeriod(TypedDict):
    """One period scored for a combination: its ledger is what `score --period` writes for it (its sha256 is
    the sha256 of that JSON), kept in the run store as `run` with --record."""

    period: str
    first: Date
    last: Date
    ends: Date
    cases: int
    outside: int
    ledger_sha256: str
    run: str | None


class CombinedPart(TypedDict):
    """A department's result in one period, as its ledger publishes it."""

    period: str
    cases: int  # its cases scored in the period
    total: Number
    grade: str | None
    rank: int | None


class CombinedDepartment(TypedDict):
    """A department's year: its period totals combined (rounded half up once), the grade band and rank of that (not
    ranked: fewer cases over the periods than [ranking] min_cases)."""

    department: str
    periods: list[CombinedPart]
    total: Number
    grade: str | None
    rank: int | None
    text: str  # how the total was made, every period's total in it


class CombinedDocument(TypedDict):
    """A year made of the periods of a rulebook assessed per quarter or month (`scoring combine --format json`)."""

    format: CombinedFormat
    engine: Engine
    rulebook: RulebookEntry
    year: int
    method: str  # sum, mean, last, expression
    expression: str | None
    cases_file_sha256: str  # sha256 of the case file's bytes, as given (every period was cut from it)
    periods: list[CombinedPeriod]  # the periods with cases, in order
    without_cases: list[str]  # the periods of the year (within the rulebook's validity) with no case
    outside_every_period: int  # cases of the file assigned in none of the periods (another year): scored nowhere
    departments: list[CombinedDepartment]


class ExplainDocument(TypedDict):
    """One department of a ledger under the ledger's head (`scoring explain --format json`; with --case,
    only that case and the department lines that come from it)."""

    format: LedgerFormat
    engine: Engine
    rulebook: RulebookEntry
    input: LedgerInput
    exclusions: NotRequired[Exclusions]  # the department's own decisions and effect, when a decisions file was given
    department: DepartmentEntry


# ---------------------------------------------------------------- the self-check (scoring-self-check/1)

class CheckInput(TypedDict):
    """The case file checked: sha256 as `score` reports it for the same file; cases as of the date."""

    sha256: str
    cases: int
    skipped: list[Skipped]
    exclusions_sha256: NotRequired[str]  # only with a decisions file (--exclusions): its granted decisions were carried out


class CriterionStanding(TypedDict):
    """An item's points secured (floor) and reachable (ceiling); null where it has none."""

    category: NotRequired[str]  # with [[category]]
    criterion: str
    title: str
    level: Level
    floor: Number | None
    ceiling: Number | None


class AtRisk(TypedDict):
    """An open item whose due date is ahead; workdays_left null where the calendar does not cover the year."""

    case: str
    criterion: str
    title: str
    due: Date
    workdays_left: int | None
    days_left: int
    points: Number  # what the step gains
    missing: str | None


class Undated(TypedDict):
    """An open item without a due date yet."""

    case: str
    criterion: str
    title: str
    due: None
    points: Number
    missing: str | None


class DecidedByOthers(TypedDict):
    """An item whose points someone else decides (a member's rating)."""

    case: str
    criterion: str
    title: str
    decided_by: str
    points: Number
    missing: str | None


class Missed(TypedDict):
    """An item whose due date has passed short of its points: cost is lost for good, recoverable a late step still earns."""

    case: str
    criterion: str
    title: str
    due: Date
    workdays_overdue: int | None  # null when nothing is recoverable, or the calendar does not cover the year
    cost: Number
    recoverable: Number
    record: str  # what the ledger says now
    missing: str | None


class MissingEvidence(TypedDict):
    """A step event whose absence costs points, with the items it completes."""

    case: str
    event: dict[str, Any]  # the step's event as the rulebook declares it: "type" and its fields
    criteria: list[str]
    missing: list[str]


class NotYetAssigned(TypedDict):
    """A case in the file not assigned to the department by the date, counted in the ceiling."""

    case: str
    role: Role
    ceiling: Number


class SelfCheckCase(CaseEntry):
    ceiling: Number | None


class SelfCheckDocument(TypedDict):
    """A department's self-assessment as of a date (`scoring self-check --format json`)."""

    format: SelfCheckFormat
    engine: Engine
    rulebook: RulebookEntry
    input: CheckInput
    department: str
    as_of: Date
    floor: Number
    floor_grade: str | None
    ceiling: Number
    ceiling_grade: str | None
    ceiling_own_steps: Number
    decided_by_others: list[DecidedByOthers]
    criteria: list[CriterionStanding]
    at_risk: list[AtRisk]
    undated: list[Undated]
    missed: list[Missed]
    missing_evidence: list[MissingEvidence]
    not_yet_assigned: list[NotYetAssigned]
    lines: list[DepartmentLine]
    cases: list[SelfCheckCase]
    uncovered_years: list[int]  # due dates there have days_left but no workdays_left


# ---------------------------------------------------------------- the bulletin (scoring-bulletin/1)

class PreviousStanding(TypedDict):
    rank: int | None
    reachable: Number


class Change(TypedDict):
    """Since the month before: the change of what is reachable, and ranks moved up (null unless ranked both times)."""

    reachable: Number | None
    rank: int | None


class BulletinRow(TypedDict):
    """A department at the month's end, ranked by what it can still reach (the self-check's ceiling: the points
    already lost are gone, every item not yet due counts as done in time); at the assessment's end by its result.
    previous and change are null for a department not scored the month before."""

    department: str
    group: NotRequired[str | None]  # when the ranking has peer groups
    rank: int | None
    reachable: Number  # the ranking's figure (the total, or the item of rank_by); at the assessment's end, its result
    secured: Number  # the floor: the figure if nothing more happens
    grade: str | None  # only at the assessment's end (the final grade); null before
    cases: int
    previous: PreviousStanding | None
    change: Change | None
    missed: int
    due_next_month: int


class BulletinItem(TypedDict):
    """An item of a department's case with a deadline, as the bulletin lists it."""

    department: str
    case: str
    case_title: str
    criterion: str
    title: str
    due: Date


class BulletinMissed(BulletinItem):
    """An item whose deadline fell in the month and that fell short."""

    cost: Number
    recoverable: Number
    record: str


class BulletinDue(BulletinItem):
    """An open item due in the next month."""

    workdays_left: int | None
    points: Number
    missing: str | None


class Untracked(TypedDict):
    """An item with a due date but no step: the self-check cannot judge it."""

    criterion: str
    title: str


class RankBy(TypedDict):
    """The department item a ranking is by ([ranking] by): its figures are the item's points, not the total."""

    criterion: str
    title: str


class BulletinDocument(TypedDict):
    """The monthly bulletin (`scoring bulletin --format json`)."""

    format: BulletinFormat
    engine: Engine
    rulebook: RulebookEntry
    input: CheckInput
    month: str  # YYYY-MM
    as_of: Date
    previous_as_of: Date
    final: bool  # the month's end is the assessment's: the ranking is the result, as `score` gives it
    rank_by: NotRequired[RankBy]  # with [ranking] by: the figures of the rows are that item's points
    grades: list[str]
    departments: list[BulletinRow]
    missed: list[BulletinMissed]
    due_next_month: list[BulletinDue]
    untracked: list[Untracked]
    dated_items: int


# ---------------------------------------------------------------- the diff (scoring-diff/1)

class InputSummary(TypedDict):
    sha256: str
    cases: int


class DiffSide(TypedDict):
    """A side compared: a run ("run <id>"), a ledger file (its name), or "replay"."""

    label: str
    rulebook: RulebookEntry
    input: InputSummary


class RuleChange(TypedDict):
    """A change between two rulebook texts: path like "criterion.K1.rule.K1-late.when"; old and new as rule data."""

    path: str
    change: Literal["added", "removed", "changed", "order"]
    old: Any
    new: Any


class LineChange(TypedDict):
    """A ledger line added, removed or changed; old_rule when another rule now scores the same events."""

    change: Literal["added", "removed", "changed"]
    criterion: str | None
    rule: str | None
    case: NotRequired[str | None]  # department lines
    old_rule: NotRequired[str | None]
    old_points: Number | None
    new_points: Number | None
    evidence: list[str]
    old_text: str | None
    new_text: str | None


class CriterionChange(TypedDict):
    criterion: str
    title: str
    old: Number | None
    new: Number | None
    delta: Number


class CaseChange(TypedDict):
    case: str
    title: str
    role: Role
    old_total: Number | None
    new_total: Number | None
    delta: Number
    lines: list[LineChange]


class DepartmentChange(TypedDict):
    """A department on both sides (null on the side it is missing from); deltas are exact."""

    department: str
    old_total: Number | None
    new_total: Number | None
    delta: Number
    old_grade: str | None
    new_grade: str | None
    old_rank: int | None
    new_rank: int | None
    criteria: list[CriterionChange]
    lines: list[LineChange]
    cases: list[CaseChange]


class DiffSummary(TypedDict):
    departments: int
    departments_changed: int
    departments_total_changed: int
    cases_changed: int
    lines_changed: int


class DiffDocument(TypedDict):
    """What moved from a to b (`scoring diff --format json`); rulebook_changes null unless both sides are runs."""

    format: DiffFormat
    a: DiffSide
    b: DiffSide
    same_input: bool
    rulebook_changes: list[RuleChange] | None
    departments: list[DepartmentChange]
    summary: DiffSummary


class ReplayInfo(TypedDict):
    """reproduced: the ledger byte-identical to the recorded one; null when the rules were changed."""

    run: str
    changed_rules: bool
    reproduced: bool | None


class ReplayDocument(DiffDocument):
    """A recorded run scored again (`scoring replay --format json`): a diff from the run to the replay."""

    replay: ReplayInfo


# ---------------------------------------------------------------- verification (scoring-verify/1)

class Difference(TypedDict):
    """A difference between what a ledger claims and what scoring again finds."""

    department: str | None
    case: str | None
    criterion: str | None
    rule: str | None
    what: str
    claimed: Any
    found: Any
    text: str | None


class VerifyDocument(TypedDict):
    """`scoring verify --format json`: ledger is the file as named on the command line."""

    format: VerifyFormat
    ledger: str
    confirmed: bool
    byte_identical: bool
    differences: list[Difference]


# ---------------------------------------------------------------- rule tests (scoring-rule-tests/1)

class LineDiffEntry(TypedDict):
    """A line in compact form: " " in both, "-" expected only, "+" actual only (with its text)."""

    op: Literal[" ", "-", "+"]
    line: str
    text: str | None


class FixtureFailure(TypedDict):
    department: str | None
    case: str | None
    field: Literal["total", "grade", "rank", "lines", "items", "indicator_lines", "department", "case", "run"]
    expected: Any
    actual: Any
    message: str
    diff: list[LineDiffEntry] | None  # fields "lines" and "indicator_lines" only


class FixtureReport(TypedDict):
    file: str
    title: str
    passed: bool
    failures: list[FixtureFailure]


class MissingPath(TypedDict):
    path: str  # such as "rule:A4-late"
    description: str


class Coverage(TypedDict):
    covered: int
    total: int
    percent: Number
    missing: list[MissingPath]


class RulebookTests(TypedDict):
    rulebook: str
    fixtures: list[FixtureReport]
    coverage: Coverage


class RuleTestsSummary(TypedDict):
    fixtures: int
    passed: int
    failed: int
    min_coverage: Number
    below_min_coverage: list[str]


class RuleTestsDocument(TypedDict):
    """`scoring rules test --format json`: each rulebook's fixtures and coverage."""

    format: RuleTestsFormat
    rulebooks: list[RulebookTests]
    summary: RuleTestsSummary


# ---------------------------------------------------------------- recorded runs

class NamedFile(TypedDict):
    name: str
    sha256: str


class RecordRulebook(TypedDict):
    """The effective rulebook (sha256 of its text) and the files and settings it was made from."""

    id: str
    version: str
    title: str
    sha256: str
    base: NamedFile
    overlays: list[NamedFile]
    set: list[str]  # NAME=VALUE, as given


class RecordInput(TypedDict):
    """The case file as named when recorded: file_sha256 of its bytes, sha256 as the ledger reports it."""

    name: str
    file_sha256: str
    sha256: str
    cases: int
    handlers: int
    skipped: int


class RecordOptions(TypedDict):
    skip_invalid: bool


class RecordLedger(TypedDict):
    format: LedgerFormat
    sha256: str


class RunRecord(TypedDict):
    """What a run record holds (scoring.audit.runs.new_record); recorded_at in UTC, like 2020-06-30T08:00:00Z."""

    recorded_at: str
    engine: Engine
    command: list[str]
    rulebook: RecordRulebook
    input: RecordInput
    options: RecordOptions
    ledger: RecordLedger
    replayed_from: str | None
    departments: NotRequired[NamedFile]  # the department records file, when one was given
    exclusions: NotRequired[NamedFile]  # the exclusions and appeals file, when one was given


class StoredRecord(RunRecord):
    """A run record as the store keeps and hashes it: its place in the chain and the hash of the run before it."""

    seq: int
    previous: str


class RunSummaryRulebook(TypedDict):
    id: str
    version: str
    sha256: str


class RunSummary(TypedDict):
    """A run as `scoring runs list --format json` lists it (the list is oldest first)."""

    id: str
    seq: int
    recorded_at: str
    rulebook: RunSummaryRulebook
    input: InputSummary
    replayed_from: str | None
    hash: str


class RunShowDocument(TypedDict):
    """`scoring runs show --format json`: one run's id, hash and record."""

    id: str
    hash: str
    record: StoredRecord


class RunExportDocument(TypedDict):
    """run.json of `scoring runs export`: the record, the command that checks the rest, and every file's sha256."""

    run: str
    hash: str
    record: StoredRecord
    verify: str
    files: dict[str, str]
