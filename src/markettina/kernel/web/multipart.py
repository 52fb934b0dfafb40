"""A streaming reader of ``multipart/form-data`` request bodies (RFC 7578).

Fed the body chunk by chunk, it hands back what it found as events: a part's start (its
name, file name and declared type), pieces of its content, its end. Nothing is kept
beyond a small window (a boundary split across chunks, one part's headers), so an upload
can be written to disk, counted and refused the moment it grows past a limit, without the
whole body in memory. (The python-multipart package FastAPI's ``UploadFile`` needs is not
a dependency of this service, and it spools the whole file before the endpoint runs.)
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

from ..errors import FieldError, MarkettinaError

MAX_HEADER_BYTES = 16 * 1024
MAX_PREAMBLE_BYTES = 64 * 1024
MAX_BOUNDARY_LENGTH = 70  # RFC 2046


class MalformedMultipart(MarkettinaError):
    status, code, title = 400, "malformed_multipart", "Malformed multipart body"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldError("body", detail, "malformed_multipart")])


@dataclass(frozen=True)
class PartStart:
    name: str
    filename: str | None
    content_type: str | None


@dataclass(frozen=True)
class PartData:
    data: bytes


@dataclass(frozen=True)
class PartEnd:
    pass


Event = PartStart | PartData | PartEnd


def boundary_of(content_type: str | None) -> str | None:
    """The boundary of a ``multipart/form-data`` Content-Type, or None if it is not one."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        return None
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= MAX_BOUNDARY_LENGTH:
        return None
    return boundary


class MultipartReader:
    """``feed`` each chunk of the body, then ``close``; both return the events found."""

    def __init__(self, boundary: str) -> None:
        self._delimiter = b"--" + boundary.encode("latin-1")
        self._marker = b"\r\n" + self._delimiter
        self._buffer = bytearray()
        self._state = "preamble"
        self._seen = 0

    @property
    def finished(self) -> bool:
        return self._state == "done"

    def feed(self, chunk: bytes) -> list[Event]:
        if self._state == "done":
            return []  # the epilogue is ignored
        self._buffer += chunk
        events: list[Event] = []
        while self._step(events):
            pass
        return events

    def close(self) -> list[Event]:
        if self._state != "done":
            raise MalformedMultipart("the body ends before its closing boundary")
        return []

    def _step(self, events: list[Event]) -> bool:
        """Take what the buffer holds in the current state; False when it needs more."""
        if self._state == "preamble":
            return self._preamble()
        if self._state == "after_boundary":
            return self._after_boundary()
        if self._state == "headers":
            return self._headers(events)
        if self._state == "body":
            return self._body(events)
        return False

    def _preamble(self) -> bool:
        at = self._buffer.find(self._delimiter)
        if at < 0:
            if len(self._buffer) > MAX_PREAMBLE_BYTES:
                raise MalformedMultipart("no boundary where the body starts")
            return False
        if at > 0 and self._buffer[at - 2 : at] != b"\r\n":
            raise MalformedMultipart("the first boundary is not on a line of its own")
        del self._buffer[: at + len(self._delimiter)]
        self._state = "after_boundary"
        return True

    def _after_boundary(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] == b"--":
            self._state = "done"
            self._buffer.clear()
            return False
        line_end = self._buffer.find(b"\r\n")
        if line_end < 0:
            if len(self._buffer) > MAX_BOUNDARY_LENGTH:
                raise MalformedMultipart("a boundary line does not end")
            return False
        if self._buffer[:line_end].strip(b" \t"):  # only transport padding may follow
            raise MalformedMultipart("a boundary is followed by other text")
        del self._buffer[: line_end + 2]
        self._state = "headers"
        return True

    def _headers(self, events: list[Event]) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if self._buffer.startswith(b"\r\n"):  # a part with no headers at all
            end, skip = 0, 2
        else:
            skip = 4
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise MalformedMultipart("a part's headers are too long")
            return False
        raw = bytes(self._buffer[:end])
        del self._buffer[: end + skip]
        events.append(_part_start(raw))
        self._seen += 1
        self._state = "body"
        return True

    def _body(self, events: list[Event]) -> bool:
        at = self._buffer.find(self._marker)
        if at < 0:
            keep = len(self._marker) - 1  # the marker may start in this chunk's tail
            if len(self._buffer) > keep:
                events.append(PartData(bytes(self._buffer[:-keep])))
                del self._buffer[:-keep]
            return False
        if at:
            events.append(PartData(bytes(self._buffer[:at])))
        events.append(PartEnd())
        del self._buffer[: at + len(self._marker)]
        self._state = "after_boundary"
        return True


def _part_start(raw: bytes) -> PartStart:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMultipart("a part's headers are not UTF-8") from exc
    message = Message()
    for line in text.split("\r\n") if text else []:
        header, colon, value = line.partition(":")
        if not colon or not header.strip():
            raise MalformedMultipart("a part has a header line that is not 'Name: value'")
        message[header.strip()] = value.strip()
    if message.get_content_disposition() != "form-data":
        raise MalformedMultipart("a part has no 'Content-Disposition: form-data'")
    raw_name = message.get_param("name", header="content-disposition")
    if isinstance(raw_name, tuple):  # RFC 2231 form
        raw_name = raw_name[2]
    if not isinstance(raw_name, str) or not raw_name:
        raise MalformedMultipart("a part has no name")
    filename = message.get_filename()
    declared = message.get("content-type")
    content_type = message.get_content_type() if declared else None
    return PartStart(name=raw_name, filename=filename, content_type=content_type)
