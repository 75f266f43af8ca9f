"""Downloads with a checksum, into the cache, never half-written.

pooch streams each file to a temporary name beside its target, checks the
publisher's checksum and only then renames it into place; a failed or corrupt
download leaves nothing behind.  A file published in a git repository is
checked by its git blob id (`gitblob:<sha1>`, which pooch does not know): pooch
fetches it under a staging name, and it is renamed into place once its blob id
is right.
"""

import hashlib
import os
import sys
from pathlib import Path

from ..errors import RnnlabError
from .sources import Remote

# Seconds to connect, and to wait for the next bytes: a stalled server fails in seconds.
TIMEOUT_S = (5, 10)


def fetch(remote: Remote, folder: Path) -> Path:
    """The local path of `remote` in `folder`, downloading it on first use."""
    import pooch
    import requests

    target = folder / remote.filename
    if target.exists():
        return target
    pooch.get_logger().setLevel("WARNING")  # its "Downloading ..." line: the bar says it
    downloader = pooch.HTTPDownloader(progressbar=sys.stderr.isatty(), timeout=TIMEOUT_S)
    blob = remote.known_hash.startswith("gitblob:")
    mismatch = RnnlabError(
        f"checksum mismatch for {remote.url} (expected {remote.known_hash}); nothing was "
        "kept in the cache: try again, or pass a local copy with --data PATH"
    )
    try:
        path = pooch.retrieve(
            remote.url,
            known_hash=None if blob else remote.known_hash,
            fname=(".unchecked-" if blob else "") + target.name,
            path=target.parent,
            downloader=downloader,
        )
    except ValueError as error:  # pooch's checksum mismatch
        raise mismatch from error
    except requests.RequestException as error:
        raise RnnlabError(
            f"could not download {remote.url} ({type(error).__name__}); without internet, "
            "pass a local copy with --data PATH or RNNLAB_DATA=PATH "
            "(imdb.npz, aclImdb .tar.gz or folder, NSMC folder)"
        ) from error
    if blob:
        if git_blob_id(Path(path)) != remote.known_hash.removeprefix("gitblob:"):
            Path(path).unlink()
            raise mismatch
        os.replace(path, target)
        return target
    return Path(path)


def git_blob_id(path: Path) -> str:
    """The id git gives the file's content: sha1 of "blob <size>\0" + the bytes."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
