"""Downloads with a checksum, into the cache, never half-written.

pooch streams each file to a temporary name beside its target, checks the
publisher's checksum and only then renames it into place; a failed or corrupt
download leaves nothing behind.
"""

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
    try:
        path = pooch.retrieve(
            remote.url,
            known_hash=remote.known_hash,
            fname=remote.filename,
            path=folder,
            downloader=downloader,
        )
    except ValueError as error:  # pooch's checksum mismatch
        raise RnnlabError(
            f"checksum mismatch for {remote.url} (expected {remote.known_hash}); nothing was "
            "kept in the cache: try again, or pass a local copy with --data PATH"
        ) from error
    except requests.RequestException as error:
        raise RnnlabError(
            f"could not download {remote.url} ({type(error).__name__}); without internet, "
            "pass a local copy with --data PATH or RNNLAB_DATA=PATH "
            "(imdb.npz, aclImdb .tar.gz or folder)"
        ) from error
    return Path(path)
