"""The nine bounded contexts in the seed's order, the DDL part of each, and what the models
say about their tables."""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from markettina.schema import CONTEXT_MODELS, context_of

from .catalog import Catalog, is_infrastructure


@dataclass(frozen=True)
class Context:
    key: str  # the package under markettina/ (kernel = shared kernel)
    title: str
    part: int


# the seed's numbering; parts 1-4 as the seed split its DDL
CONTEXTS = (
    Context("identity", "Identity", 1),
    Context("billing", "Billing", 1),
    Context("content", "Content", 2),
    Context("analytics", "Analytics", 2),
    Context("social", "Social", 3),
    Context("ai", "AI services", 3),
    Context("workflow", "Workflow", 4),
    Context("knowledge", "Knowledge base", 4),
    Context("kernel", "Shared kernel", 4),
)
BY_KEY = {context.key: context for context in CONTEXTS}
SECURITY_PART = 5  # views, functions, triggers, row-level security, grants
INFRASTRUCTURE_PART = 4  # the job queue, alembic_version, tables no model declares


@cache
def table_context(table: str) -> str | None:
    return context_of(table)


def part_of_table(table: str, catalog: Catalog) -> int:
    """The DDL part that creates ``table`` (or the view/materialized view of that name)."""
    relation = catalog.relations.get(table)
    if relation is not None and relation.kind in {"v", "m"}:
        return SECURITY_PART
    if is_infrastructure(table):
        return INFRASTRUCTURE_PART
    context = table_context(table)
    return BY_KEY[context].part if context in BY_KEY else INFRASTRUCTURE_PART


def context_tables(catalog: Catalog) -> dict[str, list[str]]:
    """Each context's tables (partitions and infrastructure left out), sorted by name."""
    grouped: dict[str, list[str]] = {context.key: [] for context in CONTEXTS}
    for table in sorted(catalog.tables):
        context = table_context(table)
        if context in grouped:
            grouped[context].append(table)
    return grouped


def unmodelled_tables(catalog: Catalog) -> list[str]:
    """Tables in the database that no model declares (besides the infrastructure ones)."""
    return sorted(
        t for t in catalog.tables if not is_infrastructure(t) and table_context(t) not in BY_KEY
    )


def _module(key: str) -> ModuleType:
    for module in CONTEXT_MODELS:
        if module.__name__.split(".")[1] == key:
            return module
    raise KeyError(key)


def _first_line(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())


def context_summary(key: str) -> str:
    """The first paragraph of the context's models module docstring, without a leading
    "<Context name>:" (the documents put the name in their own heading)."""
    summary = _first_line(_module(key).__doc__)
    head, colon, rest = summary.partition(": ")
    if colon and len(head.split()) <= 4:
        summary = rest[:1].upper() + rest[1:]
    return summary


@cache
def table_purposes() -> dict[str, str]:
    """Table -> the first paragraph of its model class's own docstring (where it has one)."""
    purposes: dict[str, str] = {}
    for module in CONTEXT_MODELS:
        for value in vars(module).values():
            if not isinstance(value, type) or value.__module__ != module.__name__:
                continue
            table = value.__dict__.get("__tablename__")
            doc = value.__dict__.get("__doc__")
            if isinstance(table, str) and isinstance(doc, str):
                purposes[table] = _first_line(doc)
    return purposes


def source_root() -> Path:
    """src/markettina (where the context packages live)."""
    import markettina

    return Path(markettina.__file__).resolve().parent


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # class, function
    doc: str


def public_definitions(path: Path) -> list[Definition]:
    """The module's public top-level classes and functions, read without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("_"):
                continue
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            found.append(Definition(node.name, kind, _first_line(ast.get_docstring(node))))
    return found


# modules of a context that are not its services (the architecture's fixed roles)
NOT_SERVICES = {"__init__", "models", "public", "tasks", "events", "dependencies"}
NOT_SERVICE_SUFFIXES = ("_ports", "_tasks")


def _is_service(path: Path) -> bool:
    name = path.stem
    return not (
        name in NOT_SERVICES or name.startswith("schemas") or name.endswith(NOT_SERVICE_SUFFIXES)
    )


def service_modules(key: str) -> list[Path]:
    """A context's service modules: service.py, or the modules that hold its use cases when
    the service is split by concern (everything but models, schemas, routers, tasks, ports)."""
    package = source_root() / key
    paths = sorted(p for p in package.glob("*.py") if _is_service(p))
    folder = package / "services"
    if folder.is_dir():
        paths.extend(sorted(p for p in folder.glob("*.py") if p.name != "__init__.py"))
    return [p for p in paths if p.is_file()]


def events_module(key: str) -> Path | None:
    path = source_root() / key / "events.py"
    return path if path.is_file() else None


@dataclass(frozen=True)
class PeriodicJob:
    periodic_id: str
    cron: str
    module: str


def periodic_jobs() -> list[PeriodicJob]:
    """The worker's schedule: every ``@<queue>.periodic(cron=..., periodic_id=...)`` in the
    package, read without importing anything."""
    found = []
    root = source_root()
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue  # a module being edited; the tests catch it elsewhere
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                if not (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "periodic"
                ):
                    continue
                keywords = {
                    k.arg: k.value.value
                    for k in decorator.keywords
                    if isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
                }
                module = ".".join(("markettina", *path.relative_to(root).with_suffix("").parts))
                found.append(
                    PeriodicJob(
                        keywords.get("periodic_id", node.name), keywords.get("cron", "?"), module
                    )
                )
    return sorted(found, key=lambda job: job.periodic_id)


def refresh_schedule() -> str:
    """How the read models are refreshed, as the worker's schedule says."""
    jobs = [job for job in periodic_jobs() if "refresh" in job.periodic_id]
    if not jobs:
        return (
            "to be refreshed every 15 minutes by the worker (schema.md), but **no periodic "
            "refresh job exists in the code yet**"
        )
    return "refreshed by " + "; ".join(
        f"the worker's periodic job `{job.periodic_id}` (cron `{job.cron}`, in `{job.module}`)"
        for job in jobs
    )
