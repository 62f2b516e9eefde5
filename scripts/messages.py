"""The Chinese message catalog: extract what the tool says, compile what translators wrote.

    python scripts/messages.py extract   # update scoring/locale/zh_CN/LC_MESSAGES/scoring.po from the code
    python scripts/messages.py compile   # scoring.po -> scoring.mo (the file the tool reads; committed)

`extract` collects every message the command line can print: the `_()`, `ngettext()` and `N_()`
calls of the code (Babel's extractor), the help of every command and option (read from the
click commands themselves: click builds help from docstrings and `help=`, translated when it is
shown), and click's own words ("Usage:", "Options", its error messages), which click looks up
with the standard library's gettext in the same catalog. It merges them into scoring.po: new
messages come in untranslated, translated ones keep their translation, messages no longer in the
code are dropped. Then translate the new entries (msgstr) and run `compile`; the test suite fails
while a message has no translation or the .mo is older than the .po (tests/test_i18n.py).

Needs Babel (the `test` extras), not needed to run the tool.
"""
from __future__ import annotations

import datetime
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "scoring" / "locale" / "zh_CN" / "LC_MESSAGES" / "scoring.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None, "pgettext": ((1, "c"), 2)}
# the modules whose messages a user of the command line can meet (shell completion and the
# pager's prompts are not among them)
CLICK_MODULES = ("core.py", "decorators.py", "exceptions.py", "formatting.py", "parser.py", "types.py")
CLICK_DYNAMIC = ("required",)  # click passes these to gettext through a variable, where no extractor sees them
FIXED_DATE = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)  # the header stays the same on every run


def help_texts() -> list[tuple[str, str]]:
    """(where, text) for the help of every command and option, as click shows it."""
    sys.path.insert(0, str(ROOT))
    from scoring.cli import main
    from scoring.cli.commands import help_message

    found = []

    def visit(command, path: str) -> None:
        for text in (command.help, command.short_help, command.epilog):
            if text and help_message(text):
                found.append((path, help_message(text)))
        for param in command.params:
            if getattr(param, "help", None):
                found.append((f"{path} {param.opts[0]}", help_message(param.help)))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            visit(sub, f"{path} {name}")

    visit(main, "scoring")
    return found


def template() -> Catalog:
    """Every message of the code, click's and the help texts, in a catalog without translations."""
    catalog = Catalog(project="scoring", creation_date=FIXED_DATE, revision_date=FIXED_DATE, fuzzy=False)
    for filename, line, message, comments, context in extract_from_dir(
            ROOT / "scoring", method_map=[("**.py", "python")], keywords=KEYWORDS):
        catalog.add(message, locations=[(f"scoring/{filename}", line)], auto_comments=comments, context=context)
    import click
    for module in CLICK_MODULES:
        path = Path(click.__file__).parent / module
        for line, message, comments, context in extract_from_file("python", path, keywords=KEYWORDS):
            catalog.add(message, locations=[(f"click/{module}", line)], auto_comments=comments, context=context)
    for message in CLICK_DYNAMIC:
        catalog.add(message, auto_comments=["click's help: [required]"])
    for where, text in help_texts():
        catalog.add(text, auto_comments=[f"help: {where}"])
    for where, text in domain_messages():
        catalog.add(text, locations=[(where, 0)], auto_comments=["a shipped domain's message"])
    return catalog


def domain_messages() -> list[tuple[str, str]]:
    """The messages a shipped domain file gives the case file's checks (`role_message`), written in English
    like the code's: a domain file of one's own may give them in Chinese, and they are shown as written."""
    import tomllib
    found = []
    for path in sorted((ROOT / "scoring" / "domains").glob("*.toml")):
        for event in tomllib.loads(path.read_text(encoding="utf-8")).get("events", []):
            if event.get("role_message"):
                found.append((f"scoring/domains/{path.name}", event["role_message"]))
    return found


def read_catalog() -> Catalog:
    with PO.open("rb") as file:
        return read_po(file, locale="zh_CN", domain="scoring")


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, sort_output=False, ignore_obsolete=True, include_previous=False)
    return buffer.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def extract() -> None:
    new = template()
    if PO.exists():
        catalog = read_catalog()
        catalog.update(new, no_fuzzy_matching=True, update_creation_date=False)
    else:
        catalog = Catalog(locale="zh_CN", domain="scoring", project="scoring", creation_date=FIXED_DATE, fuzzy=False)
        catalog.update(new, no_fuzzy_matching=True)
    catalog.revision_date = FIXED_DATE
    catalog.fuzzy = False
    PO.parent.mkdir(parents=True, exist_ok=True)
    PO.write_bytes(po_bytes(catalog))
    missing = [m.id for m in catalog if m.id and not all(translations(m))]
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} without a translation")


def translations(message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def compile_catalog() -> None:
    MO.write_bytes(mo_bytes(read_catalog()))
    print(f"wrote {MO.relative_to(ROOT)}")


if __name__ == "__main__":
    actions = {"extract": extract, "compile": compile_catalog}
    if len(sys.argv) != 2 or sys.argv[1] not in actions:
        sys.exit(__doc__)
    actions[sys.argv[1]]()
