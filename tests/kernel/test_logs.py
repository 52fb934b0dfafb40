"""Logs are readable console lines on a terminal, JSON lines otherwise, and LOG_JSON forces
either."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest

from markettina.kernel.logs import configure_logging, get_logger
from markettina.settings import Settings


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _json_again_afterwards() -> Iterator[None]:
    yield
    configure_logging("info", json=True)


def _one_line(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, json_setting: bool | None
) -> str:
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("info", json=json_setting)
    get_logger("markettina.test").info("price.set", service="text_generation")
    return stream.getvalue().strip()


def test_a_terminal_gets_console_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    coloured = _one_line(monkeypatch, _Terminal(), None)
    line = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert coloured != line and not line.startswith("{")
    assert "price.set" in line and "service=text_generation" in line and "[info" in line


def test_a_pipe_or_file_gets_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    record = json.loads(_one_line(monkeypatch, io.StringIO(), None))
    assert record["event"] == "price.set" and record["service"] == "text_generation"
    assert record["level"] == "info"


def test_log_json_forces_json_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    record = json.loads(_one_line(monkeypatch, _Terminal(), True))
    assert record["event"] == "price.set"


def test_log_json_false_forces_console_lines_without_colours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = _one_line(monkeypatch, io.StringIO(), False)
    assert "price.set" in line and not line.startswith("{") and "\x1b[" not in line


def test_the_setting_is_unset_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MARKETTINA_LOG_JSON", raising=False)
    assert Settings(_env_file=None).log_json is None  # type: ignore[call-arg]
    monkeypatch.setenv("MARKETTINA_LOG_JSON", "false")
    assert Settings(_env_file=None).log_json is False  # type: ignore[call-arg]
