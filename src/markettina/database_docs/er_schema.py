"""MARKETTINA_v2_ER_SCHEMA.md: the contexts' tables, the rules as the catalog shows them, and
the seed's three final questions answered as implemented."""

from __future__ import annotations

from collections import Counter

from markettina.schema import V1_TABLES

from .catalog import Catalog, is_infrastructure
from .contexts import (
    CONTEXTS,
    context_summary,
    context_tables,
    refresh_schedule,
    table_purposes,
    unmodelled_tables,
)
from .markdown import code, document, generated_note, names, table

_MISSING = "**not found in the catalog**"


def _unique_on(catalog: Catalog, table_name: str, columns: tuple[str, ...]) -> str | None:
    for constraint in catalog.constraints:
        if (constraint.table, constraint.columns) == (
            table_name,
            columns,
        ) and constraint.kind in "pu":
            return constraint.name
    return None


def _fk_between(catalog: Catalog, table_name: str, column: str, target: str) -> str | None:
    for fk in catalog.foreign_keys(table_name):
        if column in fk.columns and fk.ref_table == target:
            return fk.name
    return None


def _present(catalog: Catalog, *tables: str) -> str:
    found = [t for t in tables if t in catalog.tables]
    missing = [t for t in tables if t not in catalog.tables]
    text = names(found)
    if missing:
        text += f" ({_MISSING}: {', '.join(missing)})"
    return text


def answers(catalog: Catalog) -> list[tuple[str, str, str]]:
    """(question, short answer, how it is implemented) for the seed's three questions."""
    brand_unique = _unique_on(catalog, "brand_dna", ("account_id",))
    parent_fk = _fk_between(catalog, "accounts", "parent_account_id", "accounts")
    a = (
        f"One `brand_dna` row per account: unique (account_id) ({code(brand_unique)})"
        if brand_unique
        else f"unique (account_id) on `brand_dna` {_MISSING}"
    ) + (
        f"; agencies keep each client as a sub-account (`accounts.parent_account_id`, "
        f"{code(parent_fk)})."
        if parent_fk
        else f"; sub-accounts (`accounts.parent_account_id`) {_MISSING}."
    )
    ledger_triggers = sorted(
        {t.function for t in catalog.triggers if t.table == "token_transactions"}
    )
    b = (
        "Stripe directly ("
        + _present(catalog, "stripe_events", "payments", "subscriptions")
        + ": each webhook event stored once by its id) plus the internal token ledger ("
        + _present(catalog, "token_wallets", "token_transactions")
        + (
            f", the wallet kept by trigger function {names(ledger_triggers)}"
            if ledger_triggers
            else ""
        )
        + "); invoices and service pricing exist: "
        + _present(catalog, "invoices", "invoice_items", "service_pricing")
        + "."
    )
    key = catalog.partition_keys.get("domain_events")
    partitions = [
        r.name
        for r in catalog.relations.values()
        if r.partition_bound == "DEFAULT" and catalog.home(r.name) == "domain_events"
    ]
    c = (
        f"One `domain_events` table, `PARTITION BY {key}`: one partition per month, created "
        "ahead of time, plus a DEFAULT partition as a safety net"
        + (f" ({names(partitions)})" if partitions else "")
        + "."
        if key
        else f"a partitioned `domain_events` table {_MISSING}."
    )
    return [
        ("A) Multiple brand DNAs per account?", "**No** (v1.0: one per account)", a),
        ("B) Stripe integration?", "**Yes**", b),
        ("C) One event-sourcing table?", "**Yes**, partitioned by month", c),
    ]


def _tenancy(catalog: Catalog, name: str) -> str:
    if catalog.is_tenant_table(name):
        return "tenant"
    if catalog.column(name, "account_id") is not None:
        return "global + per account"
    return "global"


def _rules(catalog: Catalog) -> list[str]:
    own = sorted(t for t in catalog.tables if not is_infrastructure(t))
    tenant = [t for t in own if catalog.is_tenant_table(t)]
    keyed = [t for t in tenant if catalog.primary_key(t)[:1] == ("account_id",)]
    composite = [
        fk
        for fk in catalog.foreign_keys()
        if fk.table in tenant and fk.ref_table in tenant and "account_id" in fk.columns
    ]
    crossing = [
        fk
        for fk in catalog.foreign_keys()
        if fk.table in tenant and fk.ref_table in tenant and "account_id" not in fk.columns
    ]
    forced = [t for t in own if catalog.rls.get(t, (False, False)) == (True, True)]
    unprotected = [t for t in tenant if t not in forced]
    expressions = Counter(
        p.using for t in own for p in catalog.policies.get(t, []) if p.using is not None
    )
    predicate = expressions.most_common(1)[0][0] if expressions else None
    soft = [t for t in own if catalog.column(t, "deleted_at") is not None]
    versioned = [t for t in own if catalog.column(t, "version") is not None]
    cents = sorted(
        f"{t}.{c.name} ({c.type})"
        for t in own
        for c in catalog.tables[t]
        if c.name.endswith("_cents")
    )
    money_types = sorted({c.split("(", 1)[1].rstrip(")") for c in cents})
    families = Counter(t.function for t in catalog.triggers if not is_infrastructure(t.table))
    lines = [
        "## Rules that hold for every table, as the catalog shows them",
        "",
        f"1. **Tenant keys.** {len(tenant)} tenant tables carry `account_id NOT NULL`; "
        f"{len(keyed)} of them have a primary key that starts with `account_id`"
        + (
            f" (the others: {names(t for t in tenant if t not in keyed)})"
            if len(keyed) != len(tenant)
            else ""
        )
        + f". {len(composite)} foreign keys between tenant tables are composite through "
        "`account_id`, so the database refuses a reference to another account's row"
        + (
            f"; {len(crossing)} are not: " + names(f"{fk.table}.{fk.name}" for fk in crossing)
            if crossing
            else "; none is single-column"
        )
        + ".",
        f"2. **Row-level security.** {len(forced)} tables have row-level security enabled and "
        "forced"
        + (f", each with a policy on {code(predicate)}" if predicate else "")
        + " (`USING` and `WITH CHECK`). The tenant is set per transaction with "
        "`set_config('app.current_account_id', :id, true)`; the application role "
        "`markettina_app` owns nothing and never bypasses row-level security."
        + (f" Tenant tables without it: {names(unprotected)}." if unprotected else ""),
        f"3. **Soft delete.** {len(soft)} tables have `deleted_at`: {names(soft)}.",
        f"4. **Versioning (optimistic locking).** {len(versioned)} tables have `version`: "
        f"{names(versioned)}.",
        f"5. **Money and tokens.** Amounts are integer cents next to an ISO currency "
        f"(`*_cents` columns: {len(cents)}, of type {', '.join(money_types) or 'none'}); token "
        "amounts are integers.",
        "6. **Triggers**, by function (number of tables each is attached to): "
        + (", ".join(f"{code(f + '()')} {n}" for f, n in sorted(families.items())) or "none")
        + ".",
    ]
    return lines


def render(catalog: Catalog) -> str:
    lines = [
        "# MARKETTINA v2 - ER schema overview",
        "",
        generated_note(catalog),
        "",
        "The tables of the nine bounded contexts, the rules they share, and the answers to the "
        "seed's final questions as the schema implements them. Every column and reference is "
        "in [the ER diagram](./MARKETTINA_v2_ER_DIAGRAM.mmd); aggregates, invariants and "
        "events in [the DDD mapping](./MARKETTINA_v2_DDD_MAPPING.md).",
        "",
        "## Risposte alle Domande Finali (answers to the final questions)",
        "",
        *table(("Question", "Answer", "As implemented"), answers(catalog)),
        "",
        *_rules(catalog),
        "",
        "## Bounded contexts",
        "",
    ]
    grouped = context_tables(catalog)
    purposes = table_purposes()
    for number, context in enumerate(CONTEXTS, start=1):
        tables = grouped[context.key]
        lines += [
            f"### {number}. {context.title}",
            "",
            f"{context_summary(context.key)} "
            f"({len(tables)} tables, DDL part {context.part}; models in "
            f"`markettina.{context.key}.models`.)",
            "",
            *table(
                ("table", "since", "tenancy", "root", "purpose"),
                (
                    (
                        code(t),
                        "v1" if t in V1_TABLES else "v2",
                        _tenancy(catalog, t),
                        "yes" if catalog.is_aggregate_root(t) else "",
                        purposes.get(t, ""),
                    )
                    for t in tables
                ),
            ),
            "",
        ]
    lines += [
        "`root`: an aggregate root (soft delete with `deleted_at`, optimistic locking with "
        "`version`). `tenant`: `account_id NOT NULL` under row-level security; `global`: "
        "shared by all accounts; `global + per account`: global defaults with per-account "
        "overrides.",
        "",
    ]
    others = unmodelled_tables(catalog)
    infra = sorted(t for t in catalog.tables if is_infrastructure(t))
    lines += [
        "## Other tables and read models",
        "",
        f"- Infrastructure, declared by no model: {names(infra)} (the job queue and Alembic).",
    ]
    if others:
        lines.append(f"- Tables no model declares: {names(others)}.")
    lines += [
        f"- Materialized views (read models, {refresh_schedule()}): "
        f"{names(catalog.materialized_views)}.",
        f"- Views: {names(catalog.views)}.",
    ]
    dated = catalog.dated_partitions()
    for parent in dated:
        lines.append(
            f"- `{parent}` is partitioned by month: a partition for the current month and the "
            "months ahead (created by the migration and a daily job; the DDL parts recreate "
            "them for the month they are applied in) and a DEFAULT partition."
        )
    return document(lines)
