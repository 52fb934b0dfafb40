"""Domain events: typed classes (the published language), the outbox writer, handlers and
the relay that hands committed events to them."""

from . import change_capture
from .catalog import Event, catalog, event_class
from .handlers import Handler, StoredEvent, event_handler, event_matches
from .outbox import record

__all__ = [
    "Event",
    "Handler",
    "StoredEvent",
    "catalog",
    "change_capture",
    "event_class",
    "event_handler",
    "event_matches",
    "record",
]
