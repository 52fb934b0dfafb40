"""How fast the streaming multipart reader (kernel/web/multipart.py) takes an upload, and
how much memory it holds while doing so: a body of ``--megabytes`` MiB (one file part)
fed in 64 KiB chunks, as the server receives it.

Prints one JSON line: MiB per second, and the peak of Python allocations during the read
(tracemalloc; the body itself is produced chunk by chunk, never held whole).

    python3 dev.py run python bench/media_multipart.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from markettina.kernel.web.multipart import MultipartReader, PartData

CHUNK = 64 * 1024
BOUNDARY = "bench-boundary-7f3a"


def body(megabytes: int) -> Iterator[bytes]:
    yield (
        f"--{BOUNDARY}\r\n".encode() + b'Content-Disposition: form-data; name="file"; '
        b'filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    )
    block = bytes(range(256)) * (CHUNK // 256)
    for _ in range(megabytes * 1024 * 1024 // CHUNK):
        yield block
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def read(megabytes: int) -> float:
    """One read of the body; its seconds."""
    reader = MultipartReader(BOUNDARY)
    received = 0
    started = time.perf_counter()
    for chunk in body(megabytes):
        for event in reader.feed(chunk):
            if isinstance(event, PartData):
                received += len(event.data)
    reader.close()
    assert received == megabytes * 1024 * 1024
    return time.perf_counter() - started


def run(megabytes: int) -> dict[str, float | int]:
    elapsed = read(megabytes)  # timed without tracemalloc, which slows allocations
    tracemalloc.start()
    read(megabytes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "megabytes": megabytes,
        "mib_per_second": round(megabytes / elapsed, 1),
        "peak_python_kib": round(peak / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps({"bench": "media_multipart", **run(args.megabytes)}))


if __name__ == "__main__":
    main()
