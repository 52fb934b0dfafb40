"""The streaming multipart reader: the same parts whatever the chunking, and malformed
bodies refused with 400."""

from __future__ import annotations

import pytest

from markettina.kernel.web.multipart import (
    MalformedMultipart,
    MultipartReader,
    PartData,
    PartEnd,
    PartStart,
    boundary_of,
)

BODY = (
    b"preamble to ignore\r\n"
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="alt_text"\r\n\r\n'
    b"A caf\xc3\xa9\r\n"
    b"--XyZ  \r\n"
    b'Content-Disposition: form-data; name="file"; filename="a\\"b.png"\r\n'
    b"Content-Type: image/png\r\n\r\n"
    b"\x89PNG\r\n--XyNot-quite\r\n--X\r\n"
    b"\r\n--XyZ--\r\nepilogue"
)


def parts(chunks: list[bytes]) -> list[tuple[str, str | None, str | None, bytes]]:
    reader = MultipartReader("XyZ")
    found: list[tuple[str, str | None, str | None, bytes]] = []
    for chunk in chunks:
        for event in reader.feed(chunk):
            if isinstance(event, PartStart):
                found.append((event.name, event.filename, event.content_type, b""))
            elif isinstance(event, PartData):
                name, filename, kind, data = found[-1]
                found[-1] = (name, filename, kind, data + event.data)
            else:
                assert isinstance(event, PartEnd)
    reader.close()
    return found


EXPECTED = [
    ("alt_text", None, None, "A café".encode()),
    ("file", 'a"b.png', "image/png", b"\x89PNG\r\n--XyNot-quite\r\n--X\r\n"),
]


def test_one_chunk() -> None:
    assert parts([BODY]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16])
def test_every_split(size: int) -> None:
    assert parts([BODY[i : i + size] for i in range(0, len(BODY), size)]) == EXPECTED


@pytest.mark.parametrize(
    "body",
    [
        b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nno end',
        b"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
        b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
        b"--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",
        b"--XyZ junk\r\n",
        b"garbage--XyZ\r\n",
        b'--XyZ\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nx\r\n--XyZ--',
    ],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    reader = MultipartReader("XyZ")
    with pytest.raises(MalformedMultipart):
        reader.feed(body)
        reader.close()


def test_headers_without_end_are_bounded() -> None:
    reader = MultipartReader("XyZ")
    reader.feed(b"--XyZ\r\n")
    with pytest.raises(MalformedMultipart):
        reader.feed(b"X-Long: " + b"a" * 20_000)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("multipart/form-data; boundary=abc", "abc"),
        ('multipart/form-data; boundary="a b:c"', "a b:c"),
        ("multipart/form-data", None),
        ("application/json", None),
        (None, None),
        ("multipart/form-data; boundary=" + "x" * 71, None),
    ],
)
def test_boundary_of(header: str | None, expected: str | None) -> None:
    assert boundary_of(header) == expected
