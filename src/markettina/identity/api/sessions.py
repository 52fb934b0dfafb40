"""HTTP routes of the signed-in person's sessions (``/v1/me/sessions``): where they are
signed in, ending one, ending all the others."""

from __future__ import annotations

import uuid
from dataclasses import asdict

from fastapi import APIRouter, status

from markettina.kernel.pagination import Cursor, Limit, Page

from .. import user_sessions
from ..dependencies import CurrentActor, Transaction
from ..plain_reads import not_plain
from ..schemas.auth import SessionOut, SessionsEndedOut

router = APIRouter(prefix="/me/sessions", tags=["sessions"])


@router.get("", response_model=Page[SessionOut], summary="Your live sessions, newest first")
@not_plain(
    "no permission guards it (a person's own sessions): the read lane checks the route's permission"
)
async def list_sessions(
    actor: CurrentActor, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[SessionOut]:
    page = await user_sessions.list_sessions(session, actor=actor, limit=limit, cursor=cursor)
    return Page[SessionOut](
        items=[SessionOut(**asdict(view)) for view in page.items], next_cursor=page.next_cursor
    )


@router.post("/end-others", summary="End every session but this one")
async def end_other_sessions(actor: CurrentActor, session: Transaction) -> SessionsEndedOut:
    """Their refresh and access tokens stop working at once."""
    ended = await user_sessions.end_other_sessions(session, actor=actor)
    return SessionsEndedOut(ended=ended)


@router.delete("/{session_id}", status_code=status.HTTP_204_NO_CONTENT, summary="End one session")
async def end_session(session_id: uuid.UUID, actor: CurrentActor, session: Transaction) -> None:
    """Its refresh and access tokens stop working at once (ending this request's own
    session signs you out). Idempotent."""
    await user_sessions.end_session(session, actor=actor, session_id=session_id)
