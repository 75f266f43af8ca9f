"""A gzip stream inflated in large chunks with a bound, for reading archives safely.

tarfile's own gzip stream reads in small pieces (slow), and inflating a whole
archive in one call takes as much memory as the archive inflates to: a 1.5 MB
gzip bomb took 4.7 GB.  `Inflated` inflates 4 MB at a time, so memory stays
small and constant, and stops with a one-line error past `limit` bytes.
"""

import io
import zlib

from ..errors import RnnlabError

CHUNK = 4 << 20


class Inflated(io.RawIOBase):
    """The inflated bytes of the gzip stream `compressed`, at most `limit` of them."""

    def __init__(self, compressed, limit: int, name: str):
        self._compressed, self._limit, self._name = compressed, limit, name
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._buffer, self._position, self._inflated = b"", 0, 0
        self._buffer_start = 0  # the stream offset of self._buffer[0]

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._buffer_start + self._position

    def seek(self, offset: int, whence=io.SEEK_SET) -> int:
        """Forward only (what tarfile does when it reads members in order)."""
        target = offset if whence == io.SEEK_SET else self.tell() + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._buffer_start:
            raise io.UnsupportedOperation("an inflated stream seeks forward only")
        while target > self._buffer_start + len(self._buffer) and not self._inflater.eof:
            self._buffer_start += len(self._buffer)
            self._buffer, self._position = self._inflate_some(), 0
        self._position = min(target - self._buffer_start, len(self._buffer))
        return self.tell()

    def read(self, size=-1) -> bytes:
        if size is None or size < 0:
            raise io.UnsupportedOperation("read the stream in pieces")
        while len(self._buffer) - self._position < size and not self._inflater.eof:
            more = self._inflate_some()
            if not more:
                break
            self._buffer_start += self._position
            self._buffer = self._buffer[self._position :] + more
            self._position = 0
        data = self._buffer[self._position : self._position + size]
        self._position += len(data)
        return data

    def _inflate_some(self) -> bytes:
        source = self._inflater.unconsumed_tail or self._compressed.read(CHUNK)
        if not source:
            raise EOFError("the compressed stream ended early")
        out = self._inflater.decompress(source, CHUNK)
        self._inflated += len(out)
        if self._inflated > self._limit:
            raise RnnlabError(
                f"{self._name} inflates to more than {self._limit >> 30} GB, far more than an "
                "IMDB archive: it is not one (or it is a decompression bomb); check the file"
            )
        return out
