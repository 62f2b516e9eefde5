"""The words a user reads for a domain's values: case kinds, handler roles, event types, enum values.

The labels come from the domain file (`Domain.labels()`) as plain data, so that renderers and the
self-check show "主办", "沟通（面对面）" where the documents hold "lead", {"type": "contact",
"mode": "face_to_face"}, without loading the domain themselves. A value the labels do not know is
shown as it is written.
"""
from __future__ import annotations

from collections.abc import Mapping

# {"kinds": {id: label}, "roles": {id: label}, "events": {type: label}, "values": {field: {value: label}},
#  "given": the word for the cases a department has been given}
Labels = Mapping[str, Mapping]


def assigned_word(labels: Labels) -> str:
    """The word for the cases a department has been given (交办; 纳入考核 where kinds start differently)."""
    return labels.get("given", "交办")


def kind_name(labels: Labels, kind: str) -> str:
    return labels["kinds"].get(kind, kind)


def role_name(labels: Labels, role: str) -> str:
    return labels["roles"].get(role, role)


def event_name(labels: Labels, event: Mapping) -> str:
    """An event as words: its type's label, then its fields' values (enum values by their labels)."""
    details = [labels["values"].get(field, {}).get(str(value), str(value))
               for field, value in sorted(event.items()) if field != "type"]
    return labels["events"].get(event["type"], event["type"]) + (f"（{'、'.join(details)}）" if details else "")
