"""Whether a pooled connection that sat idle is still worth handing out, without a round trip.

An idle connection has nothing to read: its last exchange was answered in full and nobody
listens on it. When the server ends it (a restart, ``pg_terminate_backend``,
``idle_session_timeout``), PostgreSQL writes a FATAL message and closes the socket, so the
socket turns readable. One ``poll`` with no timeout sees that (about a microsecond), where a
ping would cost a round trip on every checkout. What that cannot see (a server or a network
path gone without a word, a load balancer that drops idle connections) is caught by a ping
of the connections idle for more than ``PING_AFTER_IDLE_SECONDS``, which busy ones never are.
"""

from __future__ import annotations

import select
from typing import Any

import psycopg

PING_AFTER_IDLE_SECONDS = 60.0


def is_gone(connection: psycopg.AsyncConnection[Any]) -> bool:
    """Closed, or its server has spoken unasked (in practice: said goodbye)."""
    if connection.closed:
        return True
    try:
        descriptor = connection.fileno()
    except psycopg.OperationalError:
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))
