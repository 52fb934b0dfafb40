"""Schemathesis over the API as served by ``markettina serve``: who calls, and what it found.

The test of the published contract (tests/test_api_contract.py) runs the fuzzer once per
caller; this module starts the server, makes the callers and tallies what came back.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.engine import events

from markettina.identity.openapi import API_KEY, PERSON, STAFF
from markettina.identity.permissions import ALL_PERMISSIONS
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.checks import sql
from tests.support.fake_stripe import TEST_API_KEY, TEST_WEBHOOK_SECRET, FakeStripe
from tests.support.identity import TEST_SECRET_KEY, new_account, new_key, new_member
from tests.support.processes import free_port, markettina_env, spawn, stop, wait_ready
from tests.support.staff import new_staff_session

# the route groups get limits no fuzzing run reaches (429s would hide every other answer)
_UNREACHABLE_LIMIT = 10_000_000


@dataclass(frozen=True)
class Caller:
    """Who fuzzes: the headers they send, the security schemes of the operations they
    fuzz (``None``: the anonymous operations too), and their own headers for the
    operations that end their credential (signing out)."""

    name: str
    headers: dict[str, str]
    schemes: frozenset[str]
    anonymous: bool = False
    own_headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def fuzzes(self, operation: dict[str, Any]) -> bool:
        security = {name for requirement in operation.get("security", []) for name in requirement}
        return bool(security & self.schemes) or (self.anonymous and not security)


@dataclass(frozen=True)
class Callers:
    """A signed-in owner, an API key of the same account with every scope, and a staff
    member (a superadmin) with a live session."""

    person: Caller
    api_key: Caller
    staff: Caller

    def __iter__(self) -> Iterator[Caller]:
        return iter((self.person, self.api_key, self.staff))


def make_callers(urls: DatabaseURLs, route_groups: set[str]) -> Callers:
    account = new_account(urls)
    owner = new_member(urls, account, "owner")
    leaving = new_member(urls, account, "viewer")  # signs out while the owner fuzzes
    key = new_key(urls, account, sorted(ALL_PERMISSIONS))
    staff, staff_leaving = new_staff_session(urls), new_staff_session(urls)
    sql(urls, "UPDATE admin_users SET is_superadmin = true WHERE id = %s", staff.admin_user_id)
    for group in sorted(route_groups):
        sql(
            urls,
            "INSERT INTO api_rate_limits (account_id, endpoint, limit_per_minute, "
            "limit_per_hour, limit_per_day) VALUES (%s, %s, %s, %s, %s)",
            account, group, _UNREACHABLE_LIMIT, _UNREACHABLE_LIMIT, _UNREACHABLE_LIMIT,
        )  # fmt: skip
    return Callers(
        person=Caller(
            "person", owner.headers, frozenset({PERSON}), anonymous=True,
            own_headers={"POST /v1/auth/logout": leaving.headers},
        ),
        api_key=Caller("api_key", key.headers, frozenset({API_KEY})),
        staff=Caller(
            "staff", staff.headers, frozenset({STAFF}),
            own_headers={"POST /v1/staff/logout": staff_leaving.headers},
        ),
    )  # fmt: skip


@contextmanager
def served(urls: DatabaseURLs, tmp: Path) -> Iterator[str]:
    """``markettina serve`` on a free local port over ``urls``' database, paying through a
    fake Stripe; its base URL."""
    with FakeStripe().running() as stripe:
        yield from _serve(urls, tmp, stripe)


def _serve(urls: DatabaseURLs, tmp: Path, stripe: FakeStripe) -> Iterator[str]:
    port, log = free_port(), tmp / "serve.log"
    admin = urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    env = markettina_env(
        MARKETTINA_DATABASE_URL=admin,
        MARKETTINA_DATA_DIR=str(tmp / "data"),
        MARKETTINA_ENVIRONMENT="test",
        MARKETTINA_SECRET_KEY=TEST_SECRET_KEY,
        MARKETTINA_ENCRYPTION_KEYS=json.dumps([TEST_ENCRYPTION_KEY]),
        MARKETTINA_LOG_LEVEL="warning",
        MARKETTINA_ADDRESS_LIMIT_PER_MINUTE="100000",
        MARKETTINA_ADDRESS_LIMIT_PER_HOUR="1000000",
        MARKETTINA_STRIPE_SECRET_KEY=TEST_API_KEY,
        MARKETTINA_STRIPE_WEBHOOK_SECRET=TEST_WEBHOOK_SECRET,
        MARKETTINA_STRIPE_API_BASE=stripe.base_url,
    )
    process = spawn(["serve", "--port", str(port)], env, log)
    try:
        wait_ready(port, process, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process, signal.SIGTERM)


@dataclass
class Finding:
    """One distinct failure: which caller, operation and check, and what it said."""

    caller: str
    operation: str
    check: str
    title: str
    message: str
    status: int | None
    request: str = ""
    problem: str | None = None  # the answer's problem code
    fields: tuple[str, ...] = ()  # and the fields it names

    def __str__(self) -> str:
        return (
            f"[{self.caller}] {self.operation} {self.check} (status {self.status} "
            f"{self.problem} {','.join(self.fields)}): {self.title}"
        )


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    server_errors: int = 0
    cases_by_phase: Counter[str] = field(default_factory=Counter)
    server_error_operations: set[str] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def fuzz(base_url: str, caller: Caller, settings: dict[str, Any], tally: Tally) -> None:
    """Run schemathesis as ``caller`` over the operations of the served document that are
    theirs; those ending the credential run with the caller's spare one."""
    own = caller.own_headers

    def theirs(operation: Any) -> bool:
        return caller.fuzzes(operation.definition.raw) and operation.label not in own

    _run(base_url, caller.name, caller.headers, theirs, settings, tally)
    for label, headers in own.items():
        _run(base_url, caller.name, headers, _named(label), settings, tally)


def _named(label: str) -> Callable[[Any], bool]:
    return lambda operation: bool(operation.label == label)


def _run(
    base_url: str,
    caller: str,
    headers: dict[str, str],
    selected: Callable[[Any], bool],
    settings: dict[str, Any],
    tally: Tally,
) -> None:
    config = schemathesis.Config.from_dict({**settings, "base-url": base_url, "headers": headers})
    everything = schemathesis.openapi.from_url(f"{base_url}/openapi.json", config=config)
    schema = everything.include(lambda ctx: selected(ctx.operation))
    seen = {(f.caller, f.operation, f.check, f.title) for f in tally.findings}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            before = tally.cases
            _record(caller, event.recorder, tally, seen)
            phase = getattr(event, "phase", "fuzz")
            tally.cases_by_phase[str(phase)] += tally.cases - before
        elif isinstance(event, events.NonFatalError):
            tally.errors.append(f"[{caller}] {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception


def _record(caller: str, recorder: Any, tally: Tally, seen: set[tuple[str, str, str, str]]) -> None:
    for case_id, node in recorder.cases.items():
        operation = node.value.operation.label
        tally.operations.add(operation)
        tally.cases += 1
        interaction = recorder.interactions.get(case_id)
        response = interaction.response if interaction is not None else None
        status = response.status_code if response is not None else None
        if status is not None and status >= 500:
            tally.server_errors += 1
            tally.server_error_operations.add(f"{operation} -> {status}")
        for check in recorder.checks.get(case_id, []):
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            key = (caller, operation, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            problem, fields = _problem(response)
            tally.findings.append(
                Finding(
                    caller,
                    operation,
                    check.name,
                    failure.title,
                    failure.message,
                    status,
                    check.failure_info.code_sample,
                    problem,
                    fields,
                )
            )


def _problem(response: Any) -> tuple[str | None, tuple[str, ...]]:
    """The problem code of an answer, and the fields it names (none if not a problem)."""
    if response is None or not response.headers.get("content-type", [""])[0].startswith(
        "application/problem+json"
    ):
        return None, ()
    try:
        body = response.json()
    except ValueError:
        return None, ()
    fields = tuple(str(error.get("field")) for error in body.get("errors", []))
    return body.get("code"), fields
