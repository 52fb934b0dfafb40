"""docs/database/README.md: the seed README's structure, every figure from the catalog."""

from __future__ import annotations

from markettina.database_stats import Statistic
from markettina.schema import V1_TABLES

from .catalog import Catalog, is_infrastructure
from .contexts import (
    CONTEXTS,
    context_summary,
    context_tables,
    refresh_schedule,
    table_context,
)
from .ddl_parts import PARTS
from .er_schema import answers
from .markdown import code, document, generated_note, names, table

_FILES = (
    ("README.md", "This file"),
    ("decisions.md", "Why the schema is as it is (written by hand)"),
    ("differences.md", "Every difference from the original v2 DDL, with its reason (by hand)"),
    ("MARKETTINA_v2_ER_SCHEMA.md", "Overview + Risposte domande finali"),
    ("MARKETTINA_v2_ER_DIAGRAM.mmd", "Mermaid ER Diagram"),
    ("MARKETTINA_v2_DDD_MAPPING.md", "DDD Bounded Contexts mapping"),
    *((spec.filename, f"DDL: {spec.title}") for spec in PARTS),
)

_TENANT_SNIPPET = """\
```python
from sqlalchemy import select

from markettina.kernel.db.tenant import tenant_scope

async with session.begin():  # the setting ends with this transaction at the latest
    # = SELECT set_config('app.current_account_id', :id, true), the previous tenant
    # set back when the block ends
    async with tenant_scope(session, account_id):
        leads = (await session.execute(select(Lead))).scalars().all()  # this account's rows

# the same in SQL, inside one transaction:
#   BEGIN;
#   SELECT set_config('app.current_account_id', '<account uuid>', true);
#   SELECT ... ;
#   COMMIT;
```"""


def _file_tree() -> list[str]:
    width = max(len(name) for name, _ in _FILES) + 4
    lines = ["```", "docs/database/"]
    for number, (name, what) in enumerate(_FILES):
        branch = "└── " if number == len(_FILES) - 1 else "├── "
        lines.append(f"{branch}{name}".ljust(width + 4) + f"# {what}")
    return [*lines, "```"]


def _statistics(statistics: list[Statistic]) -> list[str]:
    return table(
        ("Metric", "Count", "Seed's floor", "Status"),
        (
            (
                f"**{s.metric[0].upper() + s.metric[1:]}**",
                str(s.count),
                f"{s.floor}+",
                "ok" if s.met else "below the floor",
            )
            for s in statistics
        ),
    )


def _contexts(catalog: Catalog) -> list[str]:
    grouped = context_tables(catalog)
    return [
        f"{number}. **{context.title}** ({len(grouped[context.key])} tables, DDL part "
        f"{context.part}) - {context_summary(context.key)}"
        for number, context in enumerate(CONTEXTS, start=1)
    ]


def _apply(catalog: Catalog) -> list[str]:
    lines = [
        "### 1. Migrations (the normal way)",
        "",
        "```bash",
        "markettina migrate upgrade      # to head; `serve` does it on start as well",
        "markettina migrate current      # the revision the database is at (exit 4 if behind)",
        "```",
        "",
        "(`python3 dev.py run markettina ...` runs the command inside the project's environment.)",
        "",
        "### 2. Apply the DDL parts by hand",
        "",
        "Into an **empty** database owned by `markettina_owner`, connected as "
        "`markettina_owner`, on PostgreSQL 15+. The roles `markettina_owner` and "
        "`markettina_app` must exist (`markettina migrate` and `markettina serve` create "
        "them, or an administrator does: `CREATE ROLE markettina_owner LOGIN BYPASSRLS; "
        "CREATE ROLE markettina_app LOGIN; CREATE DATABASE markettina OWNER "
        "markettina_owner;`).",
    ]
    if catalog.extensions:
        lines += [
            "",
            "The parts were dumped from a server with "
            + names(catalog.extensions)
            + ": an administrator first runs "
            + " ".join(code(f"CREATE EXTENSION IF NOT EXISTS {e};") for e in catalog.extensions)
            + " in that database (the owner may not create extensions). On a server without "
            "pgvector use the migrations, which fall back to `real[]` embeddings.",
        ]
    lines += [
        "",
        "```bash",
        "psql -v ON_ERROR_STOP=1 -U markettina_owner -d markettina",
        "```",
        "",
        "```sql",
        *(f"\\i docs/database/{spec.filename}" for spec in PARTS),
        "```",
        "",
        "Part 4 ends by recording the revision in `alembic_version`, so `markettina migrate "
        "current` sees the database at head. Materialized views are created empty "
        "(`WITH NO DATA`) until their first refresh.",
        "",
        "### 3. Regenerate these files",
        "",
        "```bash",
        "markettina docs database [--out docs/database]",
        "```",
        "",
        "It reads the live catalog of the configured database (run it on one at head). "
        "`tests/test_database_docs.py` fails when the committed files differ from what the "
        "command produces from a freshly migrated database, and applies the five DDL parts "
        "to an empty database to check they give the migrations' schema.",
        "",
        "### 4. View the ER diagram",
        "",
        "```bash",
        "# Mermaid CLI",
        "npx -p @mermaid-js/mermaid-cli mmdc -i docs/database/MARKETTINA_v2_ER_DIAGRAM.mmd "
        "-o docs/database/er_diagram.svg",
        "```",
        "",
        "Or paste the file into https://mermaid.live, or open it in an editor with a Mermaid "
        'extension (VS Code: "Markdown Preview Mermaid Support"). The diagram is large: '
        "SVG output zooms better than PNG.",
    ]
    return lines


def _v1_notes(catalog: Catalog) -> list[str]:
    present = [t for t in sorted(V1_TABLES) if t in catalog.tables]
    grouped: dict[str, list[str]] = {}
    for name in present:
        grouped.setdefault(table_context(name) or "?", []).append(name)
    titles = {context.key: context.title for context in CONTEXTS}
    tenant = [t for t in present if catalog.is_tenant_table(t)]
    campaign_fk = next(
        (
            fk
            for fk in catalog.foreign_keys("scheduled_posts")
            if fk.ref_table == "campaigns" and "campaign_id" in fk.columns
        ),
        None,
    )
    lines = [
        "### Existing v1 tables (not duplicated)",
        "",
        "Revision `0001_v1_baseline` creates the deployed v1 tables as v1 had them; "
        "`0002_markettina_v2` upgrades them in place without losing a row:",
        "",
        *(
            f"- {names(grouped[key])} ({titles.get(key, key)})"
            for key in [c.key for c in CONTEXTS if c.key in grouped]
        ),
        "",
        "### Changes to existing tables",
        "",
    ]
    if campaign_fk is not None:
        lines.append(
            f"- `scheduled_posts.campaign_id` references `campaigns` through the account: "
            f"{code(campaign_fk.name)} {code(campaign_fk.definition)}."
        )
    lines += [
        f"- `account_id` was added where it was missing: {len(tenant)} v1 tables are tenant "
        f"tables now ({names(tenant)}), each v1 row moved into its owner's account "
        "(details in [decisions.md](./decisions.md)).",
        "- `brand_settings` was copied into `brand_dna` and stays read-only.",
    ]
    return lines


def _performance(catalog: Catalog, statistics: list[Statistic]) -> list[str]:
    indexes = next((s.count for s in statistics if s.metric == "indexes"), 0)
    own = [t for t in catalog.tables if not is_infrastructure(t)]
    soft = [t for t in own if catalog.column(t, "deleted_at") is not None]
    roots = [t for t in own if catalog.is_aggregate_root(t)]
    partial = [
        i
        for i in catalog.indexes
        if i.table in own and i.predicate and "deleted_at IS NULL" in i.predicate
    ]
    unindexed = [fk for fk in catalog.unindexed_foreign_keys() if fk.table in own]
    partitioning = [
        f"`{table_name}` (`PARTITION BY {key}`)"
        for table_name, key in catalog.partition_keys.items()
    ]
    without_unique = [
        view
        for view in catalog.materialized_views
        if not any(i.table == view and i.unique and not i.predicate for i in catalog.indexes)
    ]
    unique_text = (
        "each has a unique index, so `REFRESH MATERIALIZED VIEW CONCURRENTLY` can run"
        if not without_unique
        else f"{names(without_unique)} lack a unique index, so they cannot be refreshed "
        "concurrently"
    )
    plain_views = [v for v in catalog.views if v not in catalog.barrier_views]
    readers = "The application reads them through the `security_barrier` views " + (
        f"{names(catalog.barrier_views)}, which filter by the tenant"
    )
    if plain_views:
        readers += f" (other views: {names(plain_views)})"
    return [
        "1. **Partitioning**: "
        + (", ".join(partitioning) or "none")
        + ": one partition per month, created for the current month and the months ahead by "
        "the migration and a daily worker job, a DEFAULT partition as a safety net, and old "
        "processed partitions dropped after the retention period.",
        f"2. **Materialized views** ({len(catalog.materialized_views)}: "
        f"{names(catalog.materialized_views)}): {refresh_schedule()}; {unique_text}. {readers}.",
        f"3. **Indexes**: {indexes} on the schema's own tables, for the frequent filters "
        "(`account_id, status, created_at`), and "
        + (
            "every foreign key has an index that leads with its columns."
            if not unindexed
            else f"every foreign key but {names(f'{fk.table}.{fk.name}' for fk in unindexed)} "
            "has an index that leads with its columns."
        ),
        f"4. **Soft delete**: {len(soft)} tables have `deleted_at` ({len(roots)} of them "
        "aggregate roots, with `version` too); "
        f"{len(partial)} partial indexes (`WHERE deleted_at IS NULL`) serve the default, "
        "live-rows-only queries. GDPR erasure is a separate, explicit operation.",
    ]


def render(catalog: Catalog, statistics: list[Statistic]) -> str:
    lines = [
        "# 🗄️ MARKETTINA v2.0 - Database Schema Documentation",
        "",
        generated_note(catalog),
        "",
        "## 📁 File Structure",
        "",
        *_file_tree(),
        "",
        "---",
        "",
        "## 🎯 Quick Summary",
        "",
        "### Risposte alle Domande Finali",
        "",
        *table(("Question", "Answer", "As implemented"), answers(catalog)),
        "",
        "---",
        "",
        "## 📊 Statistics",
        "",
        "Counted from the catalog (`markettina db stats` prints the same figures for any "
        "database), next to the floors the seed promised.",
        "",
        *_statistics(statistics),
        "",
        "---",
        "",
        "## 🏗️ Bounded Contexts",
        "",
        *_contexts(catalog),
        "",
        "---",
        "",
        "## 🚀 How to Apply",
        "",
        *_apply(catalog),
        "",
        "---",
        "",
        "## ⚠️ Important Notes",
        "",
        *_v1_notes(catalog),
        "",
        "### Multi-tenancy",
        "",
        "Row-level security filters every tenant table by the transaction-local setting "
        "`app.current_account_id`. Set it with `set_config(..., true)` inside the "
        "transaction, never with a session-level `SET app.current_account_id = ...` (the "
        "seed's snippet): a session setting outlives the request and would hand one tenant's "
        "rows to the next user of a pooled connection (and `SET` cannot take a bind "
        "parameter anyway). Without a tenant a query sees no tenant rows and can write none.",
        "",
        _TENANT_SNIPPET,
        "",
        "An explicit `where(Lead.account_id == account_id)` is still fine for the query "
        "planner, but isolation does not depend on it.",
        "",
        "---",
        "",
        "## 📈 Performance Considerations",
        "",
        *_performance(catalog, statistics),
        "",
        "---",
        "",
        "## 🔗 Related Documentation",
        "",
        "- [DDD Mapping](./MARKETTINA_v2_DDD_MAPPING.md) - Aggregates, Events, Invariants, "
        "Services",
        "- [ER Schema](./MARKETTINA_v2_ER_SCHEMA.md) - Overview, rules, answers",
        "- [ER Diagram](./MARKETTINA_v2_ER_DIAGRAM.mmd) - every table and foreign key",
        "- [Decisions](./decisions.md) - why the schema is as it is",
        "- [Differences](./differences.md) - every difference from the original v2 DDL, and why",
        "- [Main README](../../README.md) - project documentation",
    ]
    return document(lines)
