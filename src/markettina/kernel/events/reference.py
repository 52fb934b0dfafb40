"""docs/events.md, written from the event catalog (``markettina docs events``)."""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any

from .catalog import Event

HEADER = """\
# Domain events

Generated from the event classes by `markettina docs events`; do not edit by hand.

Every event is a row of `domain_events` written in the transaction that made the change
(a transactional outbox) and handed by the relay to its handlers at least once
(see `docs/architecture.md`, "Events"). `GET /v1/events` lists an account's events;
webhooks subscribe to them by type, with `*` wildcards.

Each event carries, besides the payload below: `id` (uuid, what handlers and webhook
receivers deduplicate on), `account_id`, `created_at`, `event_type`, `version` (the
payload's schema version: a change a consumer could trip on raises it),
`aggregate_type`, `aggregate_id` (text: uuid or, for v1 aggregates, integer ids),
`aggregate_version` and `metadata`.
"""


def events_markdown(events: dict[str, type[Event]]) -> str:
    """The reference page: events grouped by aggregate, each with its payload's fields."""
    by_aggregate: dict[str, list[type[Event]]] = defaultdict(list)
    for event_type in sorted(events):
        cls = events[event_type]
        by_aggregate[cls.aggregate_type].append(cls)
    lines = [HEADER]
    lines.append("| Event | Version | Aggregate |")
    lines.append("|---|---|---|")
    for event_type in sorted(events):
        cls = events[event_type]
        anchor = event_type.replace(".", "")
        lines.append(f"| [`{event_type}`](#{anchor}) | {cls.version} | {cls.aggregate_type} |")
    for aggregate in sorted(by_aggregate):
        lines.append(f"\n## {aggregate}\n")
        for cls in by_aggregate[aggregate]:
            lines.extend(_event_section(cls))
    return "\n".join(lines).rstrip() + "\n"


def _event_section(cls: type[Event]) -> list[str]:
    lines = [f"### `{cls.event_type}`\n", f"Version {cls.version}. {_doc(cls)}\n"]
    schema = cls.model_json_schema()
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return [*lines, "No payload fields.\n"]
    required = set(schema.get("required", []))
    definitions: dict[str, Any] = schema.get("$defs", {})
    lines.append("| Field | Type | Required | Description |")
    lines.append("|---|---|---|---|")
    for name, spec in properties.items():
        kind = _type_name(spec, definitions)
        needed = "yes" if name in required else "no"
        description = " ".join(str(spec.get("description", "")).split())
        lines.append(f"| `{name}` | {kind} | {needed} | {description} |")
    lines.append("")
    return lines


def _doc(cls: type[Event]) -> str:
    doc = inspect.getdoc(cls) or ""
    return " ".join(doc.split()) if doc and doc != inspect.getdoc(Event) else ""


def _type_name(spec: dict[str, Any], definitions: dict[str, Any]) -> str:
    """A JSON schema type in a few words (``string (uuid)``, ``array of string``)."""
    if "$ref" in spec:
        name = str(spec["$ref"]).rsplit("/", 1)[-1]
        target = definitions.get(name, {})
        if "enum" in target:
            return " \\| ".join(f"`{value}`" for value in target["enum"])
        return f"object ({name})"
    if "enum" in spec:
        return " \\| ".join(f"`{value}`" for value in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    if "anyOf" in spec:
        options = [_type_name(option, definitions) for option in spec["anyOf"]]
        return " or ".join(options)
    kind = spec.get("type")
    if kind == "array":
        return f"array of {_type_name(spec.get('items', {}), definitions)}"
    if kind == "string" and "format" in spec:
        return f"string ({spec['format']})"
    if isinstance(kind, str):
        return kind
    return "any"
