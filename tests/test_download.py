"""Downloads against misbehaving mirrors: every failure of one mirror moves on to the next.

A raw-socket server on 127.0.0.1 answers each path with a canned (often broken) HTTP
response: malformed status lines, cut or malformed chunks, too many or too long header
lines, bodies shorter than announced, trickles and gzip bombs.  Every test is bounded to a
few seconds (the stall timeout is a parameter the tests set to about one second).
"""
import gzip
import hashlib
import socketserver
import threading
import time
import zlib

import numpy as np
import pytest

from dec_np import _download, datasets
from dec_np.datasets import DatasetNotFoundError, load_mnist, write_idx

NAME = "t10k-labels-idx1-ubyte.gz"
PAYLOAD = write_idx((np.arange(10000) % 10).astype(np.uint8))   # 10,008 bytes, as MNIST's
GOOD = gzip.compress(PAYLOAD)
MD5 = hashlib.md5(PAYLOAD).hexdigest()


def _bomb(size):
    """A gzip stream of ``size`` zero bytes (about size / 1000 bytes compressed)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [z.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + z.flush()


def _ok(body, extra=b""):
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n" % len(body)
            + extra + b"\r\n" + body)


#: path segment -> what the server sends (bytes, or a function of the socket file)
def _trickle(w):
    for _ in range(200):          # 2 bytes a second: never silent, far too slow
        w.write(b"xx")
        w.flush()
        time.sleep(0.5)


RESPONSES = {
    "good": _ok(GOOD),
    "status": b"HTTP/1.1 OK-ish\r\n\r\n" + GOOD,                      # malformed status line
    "garbage": b"\x00\x01 this is not HTTP\r\n\r\n",
    "cutchunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"%x\r\n" % len(GOOD) + GOOD[:100]),                  # chunk cut short
    "badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + GOOD,
    "headers": _ok(GOOD, b"".join(b"X-H%d: v\r\n" % i for i in range(150))),
    "longline": _ok(GOOD, b"X-Long: " + b"a" * 70000 + b"\r\n"),
    "short": (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
              % len(GOOD) + GOOD[: len(GOOD) // 2]),                  # body cut short
    "badlength": b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n" + GOOD,
    "wrong": _ok(gzip.compress(PAYLOAD[:-1] + b"\x07")),              # wrong digest
    "bomb": _ok(_bomb(8 << 20)),                                      # 8 MiB from ~8 kB
    "trickle": b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
}
BROKEN = ["status", "garbage", "cutchunk", "badchunk", "headers", "longline", "short",
          "badlength", "wrong"]


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            request = self.rfile.readline(65537).decode("latin-1").split()
            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass
            kind = "garbage" if request[0] == "CONNECT" else request[1].split("/")[1]
            self.wfile.write(RESPONSES[kind])
            self.wfile.flush()
            if kind == "trickle":
                _trickle(self.wfile)
        except (OSError, IndexError, KeyError):
            pass  # the client gave up, or asked for nothing we know


@pytest.fixture(scope="module")
def raw():
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _get(dest, mirrors, md5=MD5, **kw):
    kw.setdefault("timeout", 2.0)
    kw.setdefault("deadline", 20.0)
    return _download.download_file(NAME, dest, mirrors, md5, progress=False, **kw)


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_mirror_moves_on_to_the_next(tmp_path, raw, kind):
    path = _get(tmp_path / "d", [raw + kind + "/", raw + "good/"])
    assert path.read_bytes() == GOOD and sorted(p.name for p in path.parent.iterdir()) == [NAME]


@pytest.mark.parametrize("kind", BROKEN)
def test_when_every_mirror_fails_one_error_says_why_and_leaves_nothing(tmp_path, raw, kind):
    dest = tmp_path / "new" / "mnist"
    with pytest.raises(DatasetNotFoundError) as err:
        _get(dest, [raw + kind + "/", raw + "wrong/"])
    msg = str(err.value)
    assert f"{raw}{kind}/{NAME}: " in msg and f"{raw}wrong/{NAME}: md5" in msg
    assert f"put {NAME} into {dest}" in msg
    assert not (tmp_path / "new").exists()      # nor the folders it created


def test_a_body_shorter_than_announced_is_refused_without_a_digest(tmp_path, raw):
    with pytest.raises(DatasetNotFoundError, match=r"ended after \d+ of the \d+ bytes"):
        _get(tmp_path, [raw + "short/"], md5=None)
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_bomb_stops_at_the_known_size(tmp_path, raw):
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError, match="inflates to more than the 10008 bytes"):
        _get(tmp_path, [raw + "bomb/"], max_bytes=1 << 20)
    assert time.monotonic() - t0 < 5.0


def test_inflating_for_the_digest_stops_at_the_deadline(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(_bomb(4 << 20))
    with pytest.raises(TimeoutError, match="deadline"):
        _download.payload_md5(path, deadline=time.monotonic() - 1.0)
    with pytest.raises(ValueError, match="more than the 1000 bytes"):
        _download.payload_md5(path, max_bytes=1000)
    assert _download.payload_md5(path) == hashlib.md5(bytes(4 << 20)).hexdigest()


def test_a_trickle_is_a_stall_long_before_the_deadline(tmp_path, raw):
    t0 = time.monotonic()
    with pytest.raises(DatasetNotFoundError, match="stalled"):
        _get(tmp_path, [raw + "trickle/"], timeout=1.0, deadline=600.0)
    assert time.monotonic() - t0 < 5.0
    assert list(tmp_path.iterdir()) == []


def test_a_broken_proxy_is_a_failed_mirror(tmp_path, raw, monkeypatch):
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("https_proxy", raw)       # answers CONNECT with garbage
    with pytest.raises(DatasetNotFoundError, match="https://data.example/"):
        _get(tmp_path / "d", ["https://data.example/"])
    assert not (tmp_path / "d").exists()


def test_an_uncreatable_folder_is_a_dataset_error(tmp_path, raw):
    (tmp_path / "file").write_text("")
    with pytest.raises(DatasetNotFoundError, match="cannot create"):
        _get(tmp_path / "file" / "mnist", [raw + "good/"])


def test_load_mnist_fails_over_and_reports_in_one_error(tmp_path, raw, monkeypatch):
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [raw + "headers/", raw + "longline/"])
    with pytest.raises(DatasetNotFoundError) as err:
        load_mnist(data_dir=tmp_path / "data", subset="test", progress=False)
    msg = str(err.value)
    assert "headers/t10k-images" in msg and "longline/t10k-images" in msg
    assert "t10k-labels-idx1-ubyte.gz" in msg and "DEC_NP_DATA" in msg
    assert not (tmp_path / "data").exists()


def test_cli_prints_one_line_for_a_broken_mirror(tmp_path, raw, monkeypatch, capsys):
    from dec_np.cli import main
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [raw + "status/", raw + "cutchunk/"])
    assert main(["fit", "--dataset", "mnist-test", "--data-dir", str(tmp_path / "d"),
                 "--quiet", "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0] and "status/t10k" in err[0], err
    assert not (tmp_path / "d").exists() and not (tmp_path / "run").exists()
