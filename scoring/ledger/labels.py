"""The words a user reads for a domain's values: case kinds, handler roles, event types, enum values.

The labels come from the domain file (`Domain.labels()`) as plain data, so that renderers and the
self-check show "主办", "沟通（面对面）" where the documents hold "lead", {"type": "contact",
"mode": "face_to_face"}, without loading the domain themselves. A value the labels do not know is
shown as it is written.
"""
from __future__ import annotations

from collections.abc import Mapping

# {"kinds": {id: label}, "roles": {id: label}, "events": {type: label}, "values": {field: {value: label}},
#  "given": the word for the cases a department has been given, "flags": {yes/no field: label}}
Labels = Mapping[str, Mapping]


def assigned_word(labels: Labels) -> str:
    """The word for the cases a department has been given (交办; 纳入考核 where kinds start differently)."""
    return labels.get("given", "交办")


def kind_name(labels: Labels, kind: str) -> str:
    return labels["kinds"].get(kind, kind)


def role_name(labels: Labels, role: str) -> str:
    return labels["roles"].get(role, role)


def event_name(labels: Labels, event: Mapping) -> str:
    """An event as words: its type's label, then its fields' values (enum values by their labels, a yes/no
    field by its own label: 市民认为已解决, 市民认为已解决：否)."""
    details = [_flag(labels["flags"][field], value) if isinstance(value, bool) and field in labels.get("flags", {}) else
               labels["values"].get(field, {}).get(str(value), str(value))
               for field, value in sorted(event.items()) if field != "type"]
    return labels["events"].get(event["type"], event["type"]) + (f"（{'、'.join(details)}）" if details else "")


def _flag(label: str, value: bool) -> str:
    return label if value else f"{label}：否"
