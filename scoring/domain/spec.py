"""Domain files: the case model of one kind of government work, written as data (TOML).

A domain names its case kinds, the roles of the departments that handle a case, the fields of
a case beyond the fixed ones (id, kind, handlers, events), its event types with their fields,
which event type assigns a handler, which roles may or may not send an event type, and how an
Excel register maps onto its cases. `scoring/domains/proposals.toml` is the shipped domain of
deputies' suggestions and members' proposals; `cases.py` builds the pydantic models from a
domain, `fields.py` what rule expressions may read.

Loading goes through `base.tomlmodel` like a rulebook: every problem names the file, the line
and the key path.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from scoring.base.errors import InputError, Problem, closest
from scoring.base.files import read_file
from scoring.base.tomlmodel import Locator, model_problems, parse_toml, problems_in

SHIPPED = Path(__file__).resolve().parent.parent / "domains"  # the domains that come with the package
DEFAULT_DOMAIN = "proposals"  # what a rulebook that names no domain uses

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Label = Annotated[str, Field(min_length=1)]
FieldKind = Literal["text", "bool", "number", "integer", "date", "enum", "list"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainHeader(_Spec):
    id: Name
    label: Label
    # how finely events are dated: by the day ("2020-03-10"), or to the minute ("2023-05-04T09:15"): an
    # event then has its date-time as `at` besides its day as `date`
    time: Literal["dates", "datetimes"] = "dates"
    title_field: Name | None = None  # the case field that is a case's title in reports (none: no title)
    # the word reports use for the cases a department has been given ("已交办 18 件"); by default the label of
    # the event that assigns a handler, which a domain whose kinds start with different events must give
    assigned_label: Label | None = None


class Labelled(_Spec):
    id: Name
    label: Label


class RoleSpec(Labelled):
    lead: StrictBool = False  # the role that answers for the case (主办); at most one role is the lead


class EnumValue(_Spec):
    value: Label
    label: Label


class FieldSpec(_Spec):
    name: Name
    kind: FieldKind
    label: str = ""
    required: StrictBool = False
    default: StrictBool | StrictStr | StrictInt | None = None  # a case field's value when the case omits it
    ge: StrictInt | None = None  # integer: the smallest and largest value allowed
    le: StrictInt | None = None
    values: list[EnumValue] = []  # enum: the values, each with its label
    schema_name: Name | None = None  # enum: the name of its definition in the JSON Schema
    item: Literal["text", "number"] | None = None  # list: the kind of its items
    units: list[Label] = []  # integer: units a register's cell may write after the number ("30天")


class EventSpec(_Spec):
    type: Name
    label: Label
    fields: list[FieldSpec] = []
    assigns_handler: StrictBool = False  # the event that makes a department a handler of the case
    # the kinds of case this event assigns a handler in (none: every kind); a domain whose kinds start
    # differently (information formed, an application registered) names one assigning type per kind
    for_kinds: list[Name] = []
    from_roles: list[Name] = []  # only a handler of one of these roles may have this event
    not_from_roles: list[Name] = []  # no handler of these roles may have this event
    role_message: str = ""  # the case file's message when the roles above are not kept
    # the event needs an earlier (or same-day) event of one of these types from the same department
    # (an answer needs the application registered); a case file breaking it is refused
    after: list[Name] = []

    @functools.cached_property
    def fields_named(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}


class RegisterEvent(_Spec):
    """An event a main-sheet row of a register gives: its date column, its id column, and the event type a
    handler of some role records instead (a co-handler's reply is its co_reply)."""

    column: Name
    type: Name
    id_column: Name | None = None
    instead: dict[Name, Name] = {}  # role -> event type


class RegisterSpec(_Spec):
    mapping: Label  # the default mapping file, relative to the domain file
    main_events: list[RegisterEvent] = []


class DomainSpec(_Spec):
    domain: DomainHeader
    kinds: Annotated[list[Labelled], Field(min_length=1)]
    kinds_schema_name: Name = "Kind"
    roles: Annotated[list[RoleSpec], Field(min_length=1)]
    roles_schema_name: Name = "Role"
    event_types_schema_name: Name = "EventType"
    case_fields: list[FieldSpec] = []
    events: Annotated[list[EventSpec], Field(min_length=1)]
    excel: RegisterSpec | None = None  # the Excel register (台账)


@dataclass(frozen=True, eq=False)  # one per file (loaded once), hashed by identity
class Domain:
    """A loaded domain: its spec, where it came from, and what the readers and checks ask of it."""

    spec: DomainSpec
    source: str

    @property
    def id(self) -> str:
        return self.spec.domain.id

    @property
    def shipped(self) -> bool:
        return self.source in _SHIPPED_PATHS

    @property
    def timed(self) -> bool:
        """Whether events carry a time of day (`at`) besides their day."""
        return self.spec.domain.time == "datetimes"

    @functools.cached_property
    def kinds(self) -> dict[str, str]:
        return {k.id: k.label for k in self.spec.kinds}

    @functools.cached_property
    def roles(self) -> dict[str, str]:
        return {r.id: r.label for r in self.spec.roles}

    @functools.cached_property
    def events(self) -> dict[str, EventSpec]:
        return {e.type: e for e in self.spec.events}

    @functools.cached_property
    def event_labels(self) -> dict[str, str]:
        return {e.type: e.label for e in self.spec.events}

    @functools.cached_property
    def assigning_types(self) -> dict[str, str]:
        """Kind of case -> the event type that assigns a handler in it."""
        return {kind: next(e.type for e in self.spec.events if e.assigns_handler and (not e.for_kinds or kind in e.for_kinds))
                for kind in self.kinds}

    @property
    def assigning(self) -> str:
        """The event type that assigns a handler, in a domain where one type does it for every kind."""
        (only,) = set(self.assigning_types.values())
        return only

    def assigning_for(self, kind: str) -> str:
        """The event type that assigns a handler in a case of this kind."""
        return self.assigning_types[kind]

    @functools.cached_property
    def event_fields(self) -> dict[str, FieldSpec]:
        """Every event field, once, in the order declared (a field may be declared by several types alike)."""
        found: dict[str, FieldSpec] = {}
        for event in self.spec.events:
            for field in event.fields:
                found.setdefault(field.name, field)
        return found

    @functools.cached_property
    def field_owners(self) -> dict[str, tuple[str, ...]]:
        """Event field -> the event types that have it."""
        owners: dict[str, list[str]] = {}
        for event in self.spec.events:
            for field in event.fields:
                owners.setdefault(field.name, []).append(event.type)
        return {name: tuple(types) for name, types in owners.items()}

    @functools.cached_property
    def required_fields(self) -> dict[str, str]:
        """Event type -> its one required field, for those that have one (what rules may assume of such an event)."""
        return {e.type: required[0] for e in self.spec.events
                if len(required := [f.name for f in e.fields if f.required]) == 1}

    @functools.cached_property
    def value_labels(self) -> dict[str, dict[str, str]]:
        """Per enum field (of events and cases), each value's label."""
        return {f.name: {v.value: v.label for v in f.values}
                for f in (*self.event_fields.values(), *self.spec.case_fields) if f.values}

    def case_title(self, case) -> str:
        """What reports show as the case's title."""
        title = getattr(case, self.spec.domain.title_field) if self.spec.domain.title_field else None
        return "" if title is None else str(title)

    def labels(self) -> dict[str, Any]:
        """The labels users read, as plain data (scoring.ledger.labels; reports do not import the domain)."""
        given = self.spec.domain.assigned_label or self.event_labels[self.assigning]
        return {"kinds": self.kinds, "roles": self.roles, "events": self.event_labels, "values": self.value_labels,
                "given": given,
                "flags": {name: f.label or name for name, f in self.event_fields.items() if f.kind == "bool"}}

    def register_mapping(self) -> tuple[bytes, str]:
        """The bytes and the name of the domain's default register mapping."""
        if self.spec.excel is None:
            raise InputError([Problem(self.source, None, "excel", f'the domain "{self.id}" has no Excel register mapping')])
        path = Path(self.source).parent / self.spec.excel.mapping
        return read_file(path, "register mapping"), str(path)


def check_domain(spec: DomainSpec, locator: Locator) -> list[Problem]:
    """What the model alone cannot check: names declared twice, roles and types that are not declared,
    field kinds without what they need."""
    problems: list[Problem] = []

    def unique(items, key: str, where: tuple) -> None:
        seen: set = set()
        for index, item in enumerate(items):
            name = getattr(item, key)
            if name in seen:
                problems.append(locator.problem((*where, index, key), f'"{name}" is declared twice'))
            seen.add(name)

    unique(spec.kinds, "id", ("kinds",))
    unique(spec.roles, "id", ("roles",))
    unique(spec.events, "type", ("events",))
    unique(spec.case_fields, "name", ("case_fields",))
    title = spec.domain.title_field
    if title is not None and title not in [f.name for f in spec.case_fields]:
        problems.append(locator.problem(("domain", "title_field"), f'"{title}" is not a case field'
                                        f'{closest(title, [f.name for f in spec.case_fields])}'))
    if sum(r.lead for r in spec.roles) > 1:
        problems.append(locator.problem(("roles",), "at most one role may be the lead"))
    reserved = {"id", "kind", "handlers", "events"}
    for index, field in enumerate(spec.case_fields):
        if field.name in reserved:
            problems.append(locator.problem(("case_fields", index, "name"), f'"{field.name}" is a fixed field of every case'))
        problems += _field_problems(field, ("case_fields", index), locator)
    roles = [r.id for r in spec.roles]
    types = [e.type for e in spec.events]
    kinds: dict[str, str] = {}
    for index, event in enumerate(spec.events):
        unique(event.fields, "name", ("events", index, "fields"))
        for number, field in enumerate(event.fields):
            where = ("events", index, "fields", number)
            if field.name in ("id", "type", "date", "department", "role"):
                problems.append(locator.problem((*where, "name"), f'"{field.name}" is a fixed field of every event'))
            if kinds.setdefault(field.name, field.kind) != field.kind:
                problems.append(locator.problem((*where, "kind"), f'"{field.name}" is declared {kinds[field.name]} elsewhere'))
            problems += _field_problems(field, where, locator)
        try:
            event.role_message.format(type="", department="", role="")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(locator.problem(("events", index, "role_message"),
                                            f"may name only {{type}}, {{department}} and {{role}} ({exc!r})"))
        for key in ("from_roles", "not_from_roles"):
            for role in getattr(event, key):
                if role not in roles:
                    problems.append(locator.problem(("events", index, key), f'unknown role "{role}"{closest(role, roles)}; '
                                                                            f'the roles are {", ".join(roles)}'))
    kind_ids = [k.id for k in spec.kinds]
    for index, event in enumerate(spec.events):
        for kind in event.for_kinds:
            if kind not in kind_ids:
                problems.append(locator.problem(("events", index, "for_kinds"),
                                                f'unknown kind "{kind}"{closest(kind, kind_ids)}'))
        if event.for_kinds and not event.assigns_handler:
            problems.append(locator.problem(("events", index, "for_kinds"), "only an event that assigns a handler "
                                                                            "(assigns_handler = true) has for_kinds"))
        for name in event.after:
            if name not in types:
                problems.append(locator.problem(("events", index, "after"), f'unknown event type "{name}"{closest(name, types)}'))
    per_kind = any(e.for_kinds for e in spec.events)
    if per_kind and spec.domain.assigned_label is None:
        problems.append(locator.problem(("domain",), "a domain whose kinds start with different events names the word "
                                                     'for the cases a department is given: assigned_label = "..."'))
    for kind in kind_ids if per_kind else [None]:
        assigning = [e.type for e in spec.events if e.assigns_handler and (not e.for_kinds or kind in e.for_kinds)]
        if len(assigning) != 1:
            where = f' in a case of kind "{kind}"' if per_kind else ""
            problems.append(locator.problem(("events",), f"exactly one event type must assign a handler{where} "
                                                         f"(assigns_handler = true), not {len(assigning)}"))
    for index, main in enumerate(spec.excel.main_events if spec.excel else []):
        for path, name in [(("type",), main.type), *((("instead", role), kind) for role, kind in main.instead.items())]:
            if name not in types:
                problems.append(locator.problem(("excel", "main_events", index, *path),
                                                f'unknown event type "{name}"{closest(name, types)}'))
        for role in main.instead:
            if role not in roles:
                problems.append(locator.problem(("excel", "main_events", index, "instead", role),
                                                f'unknown role "{role}"{closest(role, roles)}'))
    return problems


def _field_problems(field: FieldSpec, where: tuple, locator: Locator) -> list[Problem]:
    problems = []
    if field.kind == "enum" and not field.values:
        problems.append(locator.problem((*where, "values"), f'the enum "{field.name}" needs its values'))
    if field.kind != "enum" and (field.values or field.schema_name):
        problems.append(locator.problem((*where, "values"), f'only an enum has values; "{field.name}" is {field.kind}'))
    if field.kind == "list" and field.item is None:
        problems.append(locator.problem((*where, "item"), f'the list "{field.name}" needs the kind of its items (item)'))
    if (field.ge is not None or field.le is not None) and field.kind != "integer":
        problems.append(locator.problem((*where, "ge" if field.ge is not None else "le"),
                                        f'only an integer has bounds; "{field.name}" is {field.kind}'))
    default = field.default
    fits = {"text": isinstance(default, str), "bool": isinstance(default, bool),
            "integer": isinstance(default, int) and not isinstance(default, bool),
            "number": isinstance(default, int) and not isinstance(default, bool),
            "enum": default in [v.value for v in field.values]}.get(field.kind, False)
    if default is not None and not fits:
        problems.append(locator.problem((*where, "default"), f'{default!r} is not a value of the {field.kind} "{field.name}"'))
    seen: set[str] = set()
    for index, value in enumerate(field.values):
        if value.value in seen:
            problems.append(locator.problem((*where, "values", index, "value"), f'"{value.value}" is declared twice'))
        seen.add(value.value)
    return problems


def parse_domain(raw: bytes, source: str) -> Domain:
    """The domain in raw; InputError with every problem (file, line, key path)."""
    toml = parse_toml(raw, source, "domain file")
    spec, problems = model_problems(DomainSpec, toml.data, toml.locator)
    if spec is not None:
        problems = check_domain(spec, toml.locator)
    if problems:
        raise problems_in(source, "domain file", problems)
    return Domain(spec, source)


def shipped_domains() -> list[str]:
    return sorted(path.stem for path in SHIPPED.glob("*.toml"))


_SHIPPED_PATHS = frozenset(str(SHIPPED / f"{name}.toml") for name in shipped_domains())


def domain_path(name: str, relative_to: str | None = None) -> str:
    """A domain's file: a shipped domain by its name, or a path (relative to `relative_to`'s folder, a rulebook's)."""
    if name.endswith(".toml") or "/" in name:
        path = Path(name)
        if relative_to is not None and not path.is_absolute():
            path = Path(relative_to).parent / path
        return str(path)
    if name not in shipped_domains():
        raise InputError([Problem(relative_to or "--domain", None, "rulebook.domain" if relative_to else "",
                                  f'unknown domain "{name}"{closest(name, shipped_domains())}; the shipped domains are '
                                  f'{", ".join(shipped_domains())}, or name a .toml file')])
    return str(SHIPPED / f"{name}.toml")


@functools.lru_cache(maxsize=16)
def _load(path: str) -> Domain:
    return parse_domain(read_file(path, "domain file"), path)


@functools.cache
def _load_shipped(path: str) -> Domain:
    # kept for the process, whatever other domain files are loaded: a case of a shipped domain is an
    # instance of its model, and the model (cases.models) must stay the one its cases were made with
    return parse_domain(read_file(path, "domain file"), path)


def load_domain(name: str = DEFAULT_DOMAIN, relative_to: str | None = None) -> Domain:
    """A shipped domain by name, or a domain file by path; loaded once per process."""
    path = domain_path(name, relative_to)
    return _load_shipped(path) if path in _SHIPPED_PATHS else _load(path)


def default_domain() -> Domain:
    return load_domain(DEFAULT_DOMAIN)


def field_default(field: FieldSpec) -> Any:
    if field.default is not None:
        return field.default
    return {"text": "", "bool": False}.get(field.kind)
