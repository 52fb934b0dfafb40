"""Media bytes on local disk, under one folder (by default ``data_dir/media``)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from markettina.content.media_storage import DownloadRequest, StoredObjectMissing

CHUNK_BYTES = 64 * 1024


class LocalDiskStorage:
    provider = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_of(self, key: str) -> Path:
        """The file of ``key``, refused if the key would leave the folder."""
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"not a key of this store: {key!r}")
        return path

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        await asyncio.to_thread(self._put, self.path_of(key), source)

    @staticmethod
    def _put(target: Path, source: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        # copied beside the target, then renamed: a reader never sees half a file
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self.path_of(key))

    def _delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root:  # leave no empty asset or account folder behind
            try:
                parent.rmdir()
            except OSError:  # not empty (or gone)
                return
            parent = parent.parent

    async def signed_url(self, request: DownloadRequest) -> str | None:
        return None  # the API signs its own download links for this store
