"""The JSON documents the tool writes: their format ids, in one place.

Every document names its kind in its "format" key. The ids are spelled once each, as a
`Literal` type (what a shape's "format" key holds) and as a constant of that type (what the
code writes and checks); a type checker holds the two together, and so does a test.

Standard library only: importing this module loads neither pydantic nor the matching engine.
"""
from typing import Final, Literal

LedgerFormat = Literal["scoring-ledger/1"]
SelfCheckFormat = Literal["scoring-self-check/1"]
BulletinFormat = Literal["scoring-bulletin/1"]
DiffFormat = Literal["scoring-diff/1"]
VerifyFormat = Literal["scoring-verify/1"]
RuleTestsFormat = Literal["scoring-rule-tests/1"]

LEDGER: Final[LedgerFormat] = "scoring-ledger/1"  # score --format json; explain --format json says it too
SELF_CHECK: Final[SelfCheckFormat] = "scoring-self-check/1"
BULLETIN: Final[BulletinFormat] = "scoring-bulletin/1"
DIFF: Final[DiffFormat] = "scoring-diff/1"  # diff --format json; replay --format json
VERIFY: Final[VerifyFormat] = "scoring-verify/1"
RULE_TESTS: Final[RuleTestsFormat] = "scoring-rule-tests/1"
RUN_STORE: Final = "scoring-run-store/1"  # not a JSON document: the run store's SQLite file says it in its meta table
