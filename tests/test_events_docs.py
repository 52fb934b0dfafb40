"""docs/events.md is what `markettina docs events` makes of the event classes."""

from __future__ import annotations

from pathlib import Path

from markettina.event_reference import events_reference, load_event_classes

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"


def test_the_committed_reference_is_what_the_command_generates() -> None:
    assert DOC.read_text(encoding="utf-8") == events_reference(), (
        "docs/events.md is stale: run `markettina docs events` and commit the result"
    )


def test_events_declared_outside_the_service_are_left_out() -> None:
    import tests.kernel.test_events  # declares test_relay.* events

    assert "test_relay.pinged" in tests.kernel.test_events.catalog()
    assert "test_relay.pinged" not in load_event_classes()
    assert DOC.read_text(encoding="utf-8") == events_reference()


def test_the_reference_lists_every_event_with_its_version_and_fields() -> None:
    text = events_reference()
    events = load_event_classes()
    assert {"lead.created", "campaign.deleted", "brand_dna.erased"} <= set(events)
    for event_type, cls in events.items():
        assert f"### `{event_type}`\n\nVersion {cls.version}." in text
        for field in cls.model_fields:
            assert f"| `{field}` |" in text
