"""The Jinja2 sandbox templates render in: no loader (no include, import or extends), no
globals (no ``range``, ``lipsum``, ``cycler``, ``self``...), no attribute or item whose name
starts with ``_``, and every way a few characters of template turn into a lot of work
bounded: loop iterations, repeated strings, powers, widths given to filters and formats,
and the size of the output.

A template is checked twice: statically when it is saved (``inspect``: the syntax, the
tags it may not use, the names it reads) and while it renders (the sandbox's own checks
and the budgets below), so a template saved before a rule existed still cannot escape.
"""

from __future__ import annotations

import contextvars
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
MAX_LOOP_ITERATIONS = 10_000  # all the loops of one render together
MAX_SIZE_ARGUMENT = 1_000  # an integer given to a filter or method (a width, a count)
MAX_EXPONENT = 64
_BIG_NUMBER_IN_FORMAT = re.compile(r"\d{5,}")  # a width or precision of 10000 or more

# tags that reach for other templates, or define callables (recursion, deep call chains)
_FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
    nodes.Block: "block",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
}
# names the compiler gives a meaning of its own; a template may not read them
RESERVED_NAMES = frozenset({"self", "super", "caller", "varargs", "kwargs", "loop"})

_BOUNDED_ITERATION_FILTER = "markettina_bounded_iteration"


class TemplateRefused(Exception):
    """The template may not be saved or rendered; ``code`` is stable, ``message`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Inspection:
    """What a template that parses and uses no forbidden construct reads."""

    names: frozenset[str]


class _Budget:
    def __init__(self) -> None:
        self.iterations = 0


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _bounded_iteration(iterable: Iterable[Any]) -> Iterator[Any]:
    budget = _budget.get()
    for item in iterable:
        budget.iterations += 1
        if budget.iterations > MAX_LOOP_ITERATIONS:
            raise TemplateRefused(
                "template_too_expensive",
                f"the template's loops ran more than {MAX_LOOP_ITERATIONS} times in all",
            )
        yield item


def _too_big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE_ARGUMENT


def _refuse_big_format(text: Any) -> None:
    if isinstance(text, str) and _BIG_NUMBER_IN_FORMAT.search(text):
        raise TemplateRefused(
            "template_too_expensive",
            "a format with a width or precision of 10000 or more is refused",
        )


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


class MarkettinaSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with the budgets of this module (see its docstring)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            size, times = (_sized(left), right) if _sized(left) else (_sized(right), left)
            if (size and isinstance(times, int) and size * times > MAX_OUTPUT_CHARS) or (
                _too_big(left) and _too_big(right)
            ):
                raise TemplateRefused(
                    "template_too_expensive",
                    f"a repetition or product beyond {MAX_OUTPUT_CHARS} is refused",
                )
            return operator.mul(left, right)
        if operator_ == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise TemplateRefused(
                    "template_too_expensive", f"an exponent above {MAX_EXPONENT} is refused"
                )
            return operator.pow(left, right)
        _refuse_big_format(left)
        return operator.mod(left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse_big_arguments(args, kwargs)
        return _within_output(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if getattr(value, "__name__", None) in ("format", "format_map"):
            _refuse_big_format(getattr(value, "__self__", None))
        return super().wrap_str_format(value)


def _refuse_big_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if any(_too_big(value) for value in (*args, *kwargs.values())):
        raise TemplateRefused(
            "template_too_expensive", f"an integer argument above {MAX_SIZE_ARGUMENT} is refused"
        )


def _within_output(value: Any) -> Any:
    """A text a filter or method made, refused once longer than the output may be (a
    width per line, ``indent(999)`` on many lines, multiplies)."""
    if isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
        raise TemplateRefused(
            "template_output_too_large",
            f"a value would exceed {MAX_OUTPUT_CHARS} characters",
        )
    return value


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` refusing big integer arguments (``center(10**8)``) and, for ``format``,
    big widths; filters are called directly by the compiled template, not through ``call``."""

    value_at = 1 if hasattr(function, "jinja_pass_arg") else 0  # after the context, if passed

    @functools.wraps(function)  # keeps jinja_pass_arg (context, environment...) as it was
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _refuse_big_arguments(args[value_at + 1 :], kwargs)
        if name == "format" and len(args) > value_at:
            _refuse_big_format(args[value_at])
        return _within_output(function(*args, **kwargs))

    return bounded


def _environment(*, autoescape: bool) -> MarkettinaSandbox:
    env = MarkettinaSandbox(
        loader=None,
        undefined=StrictUndefined,
        autoescape=autoescape,
        finalize=lambda value: "" if value is None else value,
        auto_reload=False,
        cache_size=0,
    )
    env.globals.clear()  # range, lipsum, cycler, joiner, namespace, dict: none of them
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.filters[_BOUNDED_ITERATION_FILTER] = _bounded_iteration
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def is_html(content_type: str) -> bool:
    """HTML content (``html``, or a type ending in ``_html``) renders with autoescaping."""
    return content_type == "html" or content_type.endswith("_html")


def _parse(source: str) -> nodes.Template:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(
            "template_too_large", f"a template has at most {MAX_TEMPLATE_CHARS} characters"
        )
    try:
        return _TEXT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRefused(
            "template_syntax_error", f"line {exc.lineno}: {exc.message}"
        ) from None


def _check_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        tag = _FORBIDDEN_TAGS.get(type(node))
        if tag is not None:
            raise TemplateRefused("template_forbidden_tag", f"the {tag} tag is not available")
        if isinstance(node, nodes.For) and node.recursive:
            raise TemplateRefused("template_forbidden_tag", "recursive loops are not available")
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateRefused(
                "template_unsafe", f"attributes starting with _ are refused ({node.attr})"
            )
        if (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            raise TemplateRefused(
                "template_unsafe", f"items starting with _ are refused ({node.arg.value})"
            )
        # ``loop`` outside a loop is an undeclared name (``inspect``); inside, the loop's own
        if (
            isinstance(node, nodes.Name)
            and node.ctx == "load"
            and node.name in RESERVED_NAMES - {"loop"}
        ):
            raise TemplateRefused("template_unsafe", f"the name {node.name} is reserved")


def inspect(source: str) -> Inspection:
    """Parse ``source`` and refuse what the sandbox does not offer; the names it reads."""
    tree = _parse(source)
    _check_nodes(tree)
    names = meta.find_undeclared_variables(tree)
    reserved = names & RESERVED_NAMES
    if reserved:
        raise TemplateRefused("template_unsafe", f"the name {sorted(reserved)[0]} is reserved")
    return Inspection(names=frozenset(names))


def _bound_loops(tree: nodes.Template) -> nodes.Template:
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(
            loop.iter, _BOUNDED_ITERATION_FILTER, [], [], None, None, lineno=loop.lineno
        )
    return tree


COMPILED_CACHE_SIZE = 256


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def _compiled(source: str, html: bool) -> Template:
    """``source`` checked and compiled with its loops bounded; compiling costs about 4 ms,
    so the templates rendered recently stay compiled (a refused one is never cached: the
    refusal is raised again)."""
    inspect(source)
    env = _HTML if html else _TEXT
    tree = _bound_loops(_parse(source))
    return env.template_class.from_code(env, env.compile(tree), env.make_globals(None), None)


def render(source: str, values: dict[str, Any], *, html: bool) -> str:
    """``source`` rendered with ``values`` (already validated against the declarations)."""
    template = _compiled(source, html)
    token = _budget.set(_Budget())
    pieces: list[str] = []
    size = 0
    try:
        for piece in template.generate(values):
            size += len(piece)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateRefused(
                    "template_output_too_large",
                    f"the rendered text would exceed {MAX_OUTPUT_CHARS} characters",
                )
            pieces.append(piece)
    except TemplateRefused:
        raise
    except SecurityError as exc:
        raise TemplateRefused("template_unsafe", f"refused by the sandbox: {exc}") from None
    except UndefinedError as exc:
        raise TemplateRefused("template_undefined", str(exc)) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise TemplateRefused("template_render_error", _first_line(exc)) from None
    except (RecursionError, MemoryError):
        raise TemplateRefused("template_too_expensive", "the template is too expensive") from None
    finally:
        _budget.reset(token)
    return "".join(pieces)


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.splitlines()[0][:300] if text else type(exc).__name__
