"""Every declared event class, loaded from wherever it lives, for docs/events.md.

Event classes are declared in modules named ``events`` (a context's ``events.py``) or by
the modules a worker or the API imports; this imports all of those, so the catalog holds
every event the service can publish. Only entry points import this module.
"""

from __future__ import annotations

import importlib
import pkgutil

import markettina

from .kernel.events import Event, catalog
from .kernel.events.reference import events_markdown


def load_event_classes() -> dict[str, type[Event]]:
    importlib.import_module("markettina.app")
    from .worker import TASK_MODULES

    for module in TASK_MODULES:
        importlib.import_module(module)
    for info in pkgutil.walk_packages(markettina.__path__, "markettina."):
        if info.name.rsplit(".", 1)[-1] == "events":
            importlib.import_module(info.name)
    # the service's own events: not those a test module declares
    return {t: cls for t, cls in catalog().items() if cls.__module__.startswith("markettina.")}


def events_reference() -> str:
    return events_markdown(load_event_classes())
