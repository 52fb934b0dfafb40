"""Text PostgreSQL cannot store: a NUL character, or half of a UTF-16 surrogate pair (JSON
can spell both, ``\\u0000`` and a lone ``\\ud800``). The API refuses such text at the door;
a problem that names it shows it escaped, so the answer is still valid UTF-8 JSON."""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NUL_CODE, NUL_MESSAGE = "nul_character", "must not contain a NUL character (\\u0000)"


def unstorable(text: str) -> tuple[str, str] | None:
    """Why ``text`` cannot be stored, as (code, message), or None when it can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return NUL_CODE, NUL_MESSAGE
    return "unpaired_surrogate", "must not contain half of a surrogate pair (\\ud800-\\udfff)"


def escaped(text: str) -> str:
    """``text`` with each unstorable character spelled as its ``\\uXXXX`` escape."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
