"""JSON Schemas of the documents the tool writes, made from their shapes (scoring.ledger.shapes).

`document_schemas()` gives each schema by name (ledger, explain, self-check, ...);
`python -m scoring.ledger.schemas [DIR]` writes them as DIR/<name>.schema.json (default
schemas/, from the repository's root). tests/test_schemas.py checks that the committed files
are current and that real outputs validate against them.

The schemas are made here from the TypedDicts, not by pydantic's TypeAdapter, which refuses a
`typing.TypedDict` on Python 3.11 (it asks for typing_extensions', and the shapes keep to the
standard library). The types the shapes use map directly: a TypedDict is a closed object (every
key it declares in "properties", those not `NotRequired` in "required", no other key allowed)
kept in "$defs" by its name and described by its docstring; `X | None` is X or null; `Literal`
is a constant or an enumeration; `list`, `dict[str, ...]`, `str`, `int`, `float` (any JSON
number), `bool`, `Any` are what they say. Anything else is refused, so a new kind of type in a
shape has to be given its schema here.
"""
import argparse
import functools
import inspect
import json
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

from . import shapes

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# name -> (shape, the command that writes it)
DOCUMENTS: dict[str, tuple[Any, str]] = {
    "ledger": (shapes.LedgerDocument, "scoring score --format json"),
    "explain": (shapes.ExplainDocument, "scoring explain --format json"),
    "self-check": (shapes.SelfCheckDocument, "scoring self-check --format json"),
    "bulletin": (shapes.BulletinDocument, "scoring bulletin --format json"),
    "diff": (shapes.DiffDocument, "scoring diff --format json"),
    "replay": (shapes.ReplayDocument, "scoring replay --format json"),
    "verify": (shapes.VerifyDocument, "scoring verify --format json"),
    "rule-tests": (shapes.RuleTestsDocument, "scoring rules test --format json"),
    "runs": (list[shapes.RunSummary], "scoring runs list --format json"),
    "run": (shapes.RunShowDocument, "scoring runs show --format json"),
    "run-export": (shapes.RunExportDocument, "run.json of scoring runs export"),
    "combined": (shapes.CombinedDocument, "scoring combine --format json"),
}

_PRIMITIVES = {str: "string", bool: "boolean", int: "integer", float: "number"}


def document_schemas() -> dict[str, dict]:
    """Every document's JSON Schema (Draft 2020-12), by name."""
    return {name: document_schema(shape, command) for name, (shape, command) in DOCUMENTS.items()}


def document_schema(shape, command: str) -> dict:
    defs: dict[str, dict] = {}
    body = _object(shape, defs) if is_typeddict(shape) else _schema(shape, defs)
    format_id = get_type_hints(shape).get("format") if is_typeddict(shape) else None
    title = command if format_id is None else f"{command} ({get_args(format_id)[0]})"
    schema = {"$schema": DRAFT, "title": title, **body}
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def _object(shape, defs: dict[str, dict]) -> dict:
    hints = get_type_hints(shape)  # NotRequired stripped: __required_keys__ says which keys are
    schema: dict[str, Any] = {}
    if shape.__doc__:
        schema["description"] = inspect.cleandoc(shape.__doc__)
    schema.update({"type": "object", "properties": {key: _schema(hint, defs) for key, hint in hints.items()},
                   "required": [key for key in hints if key in shape.__required_keys__], "additionalProperties": False})
    return schema


def _schema(hint, defs: dict[str, dict]) -> dict:
    if is_typeddict(hint):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}  # taken before it is filled, in case a shape ever refers to itself
            defs[name] = _object(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    if hint is Any:
        return {}
    if hint is None or hint is type(None):
        return {"type": "null"}
    if hint in _PRIMITIVES:
        return {"type": _PRIMITIVES[hint]}
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin in (Union, types.UnionType):
        options = [_schema(arg, defs) for arg in args]
        if all(list(option) == ["type"] for option in options):
            return {"type": [option["type"] for option in options]}
        return {"anyOf": options}
    if origin is list:
        return {"type": "array", "items": _schema(args[0], defs)}
    if origin is dict and args[0] is str:
        values = _schema(args[1], defs)
        return {"type": "object", **({"additionalProperties": values} if values else {})}
    raise TypeError(f"no JSON Schema for {hint!r}: give it one in scoring.ledger.schemas")


def shape_problem(value, hint, path: str = "") -> str | None:
    """Where a JSON value departs from a shape, or None: what validation against the shape's schema
    would find first, without jsonschema (a test dependency). For documents read back from where
    they could have been forged (the run store), before any code relies on their keys."""
    where = path or "the document"
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return f"{where}: not an object"
        hints = _hints(hint)
        for key in hints:
            if key in hint.__required_keys__ and key not in value:
                return f'{where}: the key "{key}" is missing'
        for key, item in value.items():
            if key not in hints:
                return f'{where}: an unknown key "{key}"'
            found = shape_problem(item, hints[key], f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if hint is Any:
        return None
    if hint is None or hint is type(None):
        return None if value is None else f"{where}: not null"
    if hint in _PRIMITIVES:
        fits = (isinstance(value, bool) if hint is bool else
                isinstance(value, (int, float) if hint is float else hint) and not isinstance(value, bool))
        return None if fits else f"{where}: not {'a' if hint is not int else 'an'} {_PRIMITIVES[hint]}"
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return None if value in args and type(value) in {type(arg) for arg in args} else f"{where}: not one of {list(args)}"
    if origin in (Union, types.UnionType):
        found = [shape_problem(value, arg, path) for arg in args]
        return None if None in found else found[0]
    if origin is list:
        if not isinstance(value, list):
            return f"{where}: not a list"
        return next((p for index, item in enumerate(value) if (p := shape_problem(item, args[0], f"{where}[{index}]"))), None)
    if origin is dict and args[0] is str:
        if not isinstance(value, dict):
            return f"{where}: not an object"
        return next((p for key, item in value.items() if (p := shape_problem(item, args[1], f"{where}.{key}"))), None)
    raise TypeError(f"no check for {hint!r}: give it one in scoring.ledger.schemas")


@functools.cache
def _hints(shape) -> dict:
    return get_type_hints(shape)


def to_text(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write(directory: Path) -> list[Path]:
    """Write every schema as directory/<name>.schema.json; returns the paths."""
    written = []
    for name, schema in document_schemas().items():
        path = directory / f"{name}.schema.json"
        path.write_text(to_text(schema), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scoring.ledger.schemas", description=(
        "Write the JSON Schema of every document the tool writes as DIR/<name>.schema.json."))
    parser.add_argument("directory", metavar="DIR", nargs="?", default="schemas",
                        help="default: schemas (from the repository's root)")
    directory = Path(parser.parse_args(argv).directory)
    if not directory.is_dir():
        parser.error(f"{directory}: no such directory")
    for path in write(directory):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
