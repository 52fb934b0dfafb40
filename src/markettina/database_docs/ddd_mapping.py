"""MARKETTINA_v2_DDD_MAPPING.md: per bounded context its aggregates, domain events,
invariants (as the catalog enforces them) and services."""

from __future__ import annotations

import re

from .catalog import Catalog, Trigger, change_capture_actions, writes_domain_events
from .contexts import (
    CONTEXTS,
    Context,
    context_summary,
    context_tables,
    events_module,
    public_definitions,
    service_modules,
    source_root,
    table_context,
)
from .markdown import code, document, generated_note, names, table


def owned_children(catalog: Catalog, root: str) -> list[str]:
    """Tables whose composite foreign key points at ``root`` with ON DELETE CASCADE."""
    return sorted(
        {
            fk.table
            for fk in catalog.foreign_keys()
            if fk.ref_table == root
            and fk.on_delete == "c"
            and len(fk.columns) > 1
            and fk.table != root
        }
    )


def _with_context(table_name: str, home: str) -> str:
    context = table_context(table_name)
    return code(table_name) + (f" ({context})" if context and context != home else "")


def _aggregates(catalog: Catalog, context: Context, tables: list[str]) -> list[str]:
    roots = [t for t in tables if catalog.is_aggregate_root(t)]
    lines = ["### Aggregates", ""]
    if not roots:
        lines += ["No aggregate root (no table with both `deleted_at` and `version`).", ""]
    else:
        lines += table(
            ("aggregate root", "owned children (composite FK, ON DELETE CASCADE)"),
            (
                (code(root), ", ".join(_with_context(c, context.key) for c in kids) or "—")
                for root in roots
                for kids in [owned_children(catalog, root)]
            ),
        )
        lines.append("")
    owned = {c for root in roots for c in owned_children(catalog, root)}
    rest = [t for t in tables if t not in roots and t not in owned]
    if rest:
        lines += [
            f"Other tables (entities and records outside these aggregates): {names(rest)}.",
            "",
        ]
    return lines


def _events_on(trigger: Trigger) -> str:
    match = re.search(r"\b(BEFORE|AFTER|INSTEAD OF) (.+?) ON ", trigger.definition)
    return f"{match.group(1)} {match.group(2)}" if match else "?"


def _events(catalog: Catalog, context: Context, tables: list[str]) -> list[str]:
    lines = ["### Domain events", ""]
    capture = [t for t in catalog.triggers if t.table in tables and writes_domain_events(t)]
    if capture:
        lines.append(
            "Change capture (a trigger writes one `domain_events` row per change, in the "
            "changing transaction):"
        )
        lines.append("")
        for trigger in capture:
            aggregate = trigger.arguments[0] if trigger.arguments else trigger.table
            actions = change_capture_actions(trigger)
            kinds = (
                names(f"{aggregate}.{action}" for action in actions)
                if actions
                else f"`{aggregate}.<action>` (see {code(trigger.function + '()')})"
            )
            lines.append(
                f"- {code(trigger.table)}: aggregate type {code(aggregate)}, event types "
                f"{kinds}; trigger {code(trigger.name)} {_events_on(trigger)}, function "
                f"{code(trigger.function + '()')}."
            )
        lines.append("")
    else:
        lines += ["No change capture on this context's tables.", ""]
    module = events_module(context.key)
    relative = f"src/markettina/{context.key}/events.py"
    if module is None:
        lines += [f"No `{relative}` yet: the services emit no richer events of their own.", ""]
    else:
        definitions = public_definitions(module)
        lines += [f"Events declared in `{relative}`:", ""]
        lines += [f"- {code(d.name)}" + (f": {d.doc}" if d.doc else "") for d in definitions]
        lines.append("")
    return lines


def _invariant_rows(catalog: Catalog, tables: list[str]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    kinds = {"c": "check", "u": "unique", "x": "exclusion", "p": "primary key"}
    for name in tables:
        for constraint in catalog.constraints:
            if constraint.table == name and constraint.kind in "cux":
                rows.append(
                    (code(name), f"{code(constraint.name)} ({kinds[constraint.kind]})",
                     code(constraint.definition))
                )  # fmt: skip
        for index in catalog.unique_indexes:
            if index.table == name:
                definition = "UNIQUE " + index.definition.split(" USING ", 1)[-1]
                rows.append((code(name), f"{code(index.name)} (unique index)", code(definition)))
    return rows


def _invariants(catalog: Catalog, tables: list[str]) -> list[str]:
    rows = _invariant_rows(catalog, tables)
    lines = ["### Invariants (enforced by the database)", ""]
    if not rows:
        return [*lines, "No check or unique constraint.", ""]
    return [*lines, *table(("table", "constraint", "definition"), rows), ""]


def _services(context: Context) -> list[str]:
    lines = ["### Services", ""]
    modules = service_modules(context.key)
    if not modules:
        return [
            *lines,
            f"Not yet implemented: no service module in `src/markettina/{context.key}/`. "
            "Until one exists, the rules above are all the database enforces; state "
            "machines and cross-row rules await the services.",
            "",
        ]
    root = source_root().parent
    for path in modules:
        lines += [f"`{path.relative_to(root).as_posix()}`:", ""]
        definitions = public_definitions(path)
        lines += [
            f"- {code(d.name)} ({d.kind})" + (f": {d.doc}" if d.doc else "") for d in definitions
        ] or ["- (no public classes or functions)"]
        lines.append("")
    return lines


def render(catalog: Catalog) -> str:
    lines = [
        "# MARKETTINA v2 - DDD mapping",
        "",
        generated_note(catalog),
        "",
        "For each bounded context: its aggregates (an aggregate root is a table with "
        "`deleted_at` and `version`; its owned children are the tables whose composite "
        "foreign key points at it with `ON DELETE CASCADE`), its domain events, the "
        "invariants the database enforces (every check and unique constraint and unique "
        "index of its tables, by name and definition, from the catalog) and its services.",
        "",
    ]
    grouped = context_tables(catalog)
    for number, context in enumerate(CONTEXTS, start=1):
        tables = grouped[context.key]
        lines += [
            f"## {number}. {context.title}",
            "",
            f"{context_summary(context.key)} Tables: {names(tables)}.",
            "",
            *_aggregates(catalog, context, tables),
            *_events(catalog, context, tables),
            *_invariants(catalog, tables),
            *_services(context),
        ]
    return document(lines)
