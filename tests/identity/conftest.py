"""Fixtures of the identity tests that talk to a social platform: the fake OAuth 2.0
server (one per test module) and the API's platform bound to it (reset for each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_platform import FakePlatform, FakeServer, bound, serving


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    with serving() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeServer) -> Iterator[FakePlatform]:
    with bound(fake_server) as platform:
        yield platform
