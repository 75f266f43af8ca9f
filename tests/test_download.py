"""The real download path, against an HTTP server on 127.0.0.1 that the test starts."""

import hashlib
import http.server
import json
import socket
import threading

import pytest
from helpers import write_keras_npz

import rnnlab
from rnnlab.cli import main
from rnnlab.data import sources
from rnnlab.errors import RnnlabError


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; `requests` lists the paths asked for."""
    www = tmp_path / "www"
    www.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(www), **kwargs)

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def digest(path, algorithm):
    return f"{algorithm}:{hashlib.new(algorithm, path.read_bytes()).hexdigest()}"


def publish_keras(monkeypatch, www, url, npz_hash=None):
    npz = write_keras_npz(www / "imdb.npz")
    index = www / "imdb_word_index.json"
    index.write_text(json.dumps({f"w{i}": i for i in range(1, 70)}))
    remotes = (
        sources.Remote("imdb.npz", f"{url}/imdb.npz", npz_hash or digest(npz, "sha256")),
        sources.Remote("imdb_word_index.json", f"{url}/imdb_word_index.json", digest(index, "md5")),
    )
    monkeypatch.setitem(sources.DOWNLOADS, "keras", remotes)
    return npz


def test_default_source_downloads_once_with_checksums(server, monkeypatch, tmp_path):
    www, url, requests = server
    npz = publish_keras(monkeypatch, www, url)
    (x_train, y_train), _ = rnnlab.load_imdb(num_words=30)
    (x_local, y_local), _ = rnnlab.load_imdb(npz, num_words=30)
    assert [list(x) for x in x_train] == [list(x) for x in x_local]
    assert sorted(requests) == ["/imdb.npz", "/imdb_word_index.json"]
    downloads = tmp_path / "rnnlab-home" / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == ["imdb.npz", "imdb_word_index.json"]
    assert rnnlab.get_word_index()["w1"] == 1
    assert len(requests) == 2  # the second and third loads used the cache


def test_bad_checksum_keeps_nothing(server, monkeypatch, tmp_path):
    www, url, _ = server
    publish_keras(monkeypatch, www, url, npz_hash="sha256:" + "0" * 64)
    with pytest.raises(RnnlabError, match="checksum mismatch"):
        rnnlab.load_imdb()
    downloads = tmp_path / "rnnlab-home" / "downloads"
    assert not downloads.exists() or not list(downloads.iterdir())


def test_stanford_archive_by_name(server, monkeypatch, tiny_tarball):
    www, url, _ = server
    (www / "aclImdb_v1.tar.gz").write_bytes(tiny_tarball.read_bytes())
    remote = sources.Remote(
        "aclImdb_v1.tar.gz", f"{url}/aclImdb_v1.tar.gz", digest(tiny_tarball, "md5")
    )
    monkeypatch.setitem(sources.DOWNLOADS, "aclimdb", (remote,))
    (x_train, _), (x_test, _) = rnnlab.load_imdb("aclimdb")
    assert len(x_train) == len(x_test) == 40


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_default_says_how_to_pass_a_local_copy(monkeypatch, capsys):
    url = f"http://127.0.0.1:{closed_port()}"
    remote = sources.Remote("imdb.npz", f"{url}/imdb.npz", "sha256:" + "0" * 64)
    monkeypatch.setitem(sources.DOWNLOADS, "keras", (remote,))
    assert main(["data"]) == 2
    *progress, error = capsys.readouterr().err.strip().splitlines()
    assert error.startswith("rnnlab data: error: could not download")
    assert "--data PATH" in error and "Traceback" not in "".join(progress)
