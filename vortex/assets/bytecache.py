"""An LRU of bytes bounded by their total size, for asset content (supervisor and hosts)."""

from __future__ import annotations

from collections import OrderedDict


class ByteCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_item = max_bytes // 4
        """Larger content is not kept: one big file would push every small one out."""
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        if len(value) > self.max_item or key in self._items:
            return
        self._items[key] = value
        self._size += len(value)
        while self._size > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._size -= len(dropped)

    @property
    def size(self) -> int:
        return self._size
