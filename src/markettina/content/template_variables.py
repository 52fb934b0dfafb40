"""A template's declared variables: checked when the template is saved (each default has
its declared type, no name twice, every name the template reads is declared) and when it
renders (each value has its declared type, every required one is given, nothing
undeclared is sent).

Types: ``string`` (text), ``integer`` (a whole number), ``number`` (any JSON number),
``boolean``, ``date`` (``YYYY-MM-DD``; the template gets a date, so ``{{ d.year }}`` and
``{{ d.strftime('%d %B') }}`` work) and ``list`` (at most 100 strings, numbers or booleans).
An optional variable left out takes its default, or renders as nothing (``None``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from markettina.kernel.errors import FieldError

from .errors import TemplateVariablesInvalid

VARIABLE_TYPES = ("string", "integer", "number", "boolean", "date", "list")
MAX_LIST_ITEMS = 100
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _convert(kind: str, value: Any) -> tuple[Any, str | None]:
    """``value`` as the template receives it, or the reason it is not a ``kind``."""
    if kind == "string":
        return (value, None) if isinstance(value, str) else (None, "must be a string")
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        return (value, None) if _is_integer(value) else (None, "must be an integer")
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return (value, None) if ok else (None, "must be a number")
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind == "date":
        if isinstance(value, str) and _DAY.fullmatch(value):
            try:
                return dt.date.fromisoformat(value), None
            except ValueError:
                pass
        return None, "must be a date as YYYY-MM-DD"
    if not isinstance(value, list):
        return None, "must be a list"
    if len(value) > MAX_LIST_ITEMS:
        return None, f"must have at most {MAX_LIST_ITEMS} items"
    if not all(isinstance(item, str | int | float | bool) for item in value):
        return None, "must hold only strings, numbers or booleans"
    return list(value), None


def check_declarations(declarations: list[dict[str, Any]], used: Iterable[str]) -> None:
    """422 naming each bad declaration, or the names the template reads undeclared."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, declaration in enumerate(declarations):
        name = declaration["name"]
        if name in seen:
            errors.append(
                FieldError(f"body.variables.{index}.name", f"{name} is declared twice", "duplicate")
            )
        seen.add(name)
        default = declaration.get("default")
        if default is None:
            continue
        if declaration.get("required", True):
            errors.append(
                FieldError(
                    f"body.variables.{index}.default",
                    "a required variable has no default",
                    "invalid",
                )
            )
            continue
        _, problem = _convert(declaration.get("type", "string"), default)
        if problem is not None:
            errors.append(FieldError(f"body.variables.{index}.default", problem, "wrong_type"))
    undeclared = sorted(set(used) - seen)
    if undeclared:
        errors.append(
            FieldError(
                "body.template_content",
                "reads variables that are not declared: " + ", ".join(undeclared),
                "undeclared_variables",
            )
        )
    if errors:
        raise TemplateVariablesInvalid(
            "the template's variables do not match its declarations",
            errors=errors,
            undeclared=undeclared,
        )


def values_for(declarations: list[dict[str, Any]], given: Mapping[str, Any]) -> dict[str, Any]:
    """What the template renders with: ``given`` checked against ``declarations`` (each
    refusal names ``body.variables.<name>``), defaults filled in."""
    declared = {d["name"]: d for d in declarations}
    errors = [
        FieldError(f"body.variables.{name}", "is not a declared variable", "undeclared")
        for name in sorted(set(given) - set(declared))
    ]
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        kind = declaration.get("type", "string")
        if name not in given or given[name] is None:
            if declaration.get("required", True):
                errors.append(FieldError(f"body.variables.{name}", "is required", "missing"))
                continue
            default = declaration.get("default")
            values[name] = None if default is None else _convert(kind, default)[0]
            continue
        value, problem = _convert(kind, given[name])
        if problem is not None:
            errors.append(FieldError(f"body.variables.{name}", f"{problem} ({kind})", "wrong_type"))
        values[name] = value
    if errors:
        raise TemplateVariablesInvalid("the variables do not match the template", errors=errors)
    return values
