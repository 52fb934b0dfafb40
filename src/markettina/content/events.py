"""The events the content context publishes."""

from __future__ import annotations
