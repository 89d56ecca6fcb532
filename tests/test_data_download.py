"""Downloader and extractor against a local HTTP server on 127.0.0.1 (no internet)."""

import hashlib
import io
import json
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from ganlab_kit import datasets, download


def _png_bytes(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _good_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in ("trainA", "trainB", "testA", "testB"):
            for i in range(2):
                archive.writestr(f"tiny2photo/{part}/{i}.png", _png_bytes(30 * i + 40))
    return buffer.getvalue()


def _zip_with(name: str, symlink: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("set/trainA/ok.png", _png_bytes(1))
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (0o120777 << 16)  # a symlink entry; its data is the link target
            archive.writestr(info, "/etc/passwd")
        else:
            archive.writestr(info, b"escaped")
    return buffer.getvalue()


def _tar_with(member: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        ok = tarfile.TarInfo("set/trainA/ok.txt")
        ok.size = 2
        archive.addfile(ok, io.BytesIO(b"ok"))
        member.size = len(data) if member.isfile() else 0
        archive.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return buffer.getvalue()


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


@pytest.fixture(scope="module")
def server():
    """Serve ``files`` (path -> bytes) on 127.0.0.1, with Content-Length; yields (base_url, files)."""
    files: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.zip"  # nothing listens there any more


def _manifest(tmp_path, name, url, sha256=None, archive="zip", mirrors=()):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format": 1, "datasets": {name: {
        "url": url, "sha256": sha256, "archive": archive, "mirrors": list(mirrors), "licence": "test"}}}))
    return path


def test_committed_manifest_lists_the_cyclegan_sets():
    entries = download.load_manifest()
    assert {"ukiyoe2photo", "monet2photo", "vangogh2photo", "cezanne2photo"} <= set(entries)
    for entry in entries.values():
        assert entry.url.startswith("http") and entry.licence and entry.cultural_note and entry.layout == "cyclegan"


def test_download_verify_extract_and_use(server, tmp_path):
    base, files = server
    body = _good_zip()
    files["/tiny2photo.zip"] = body
    manifest = _manifest(tmp_path, "tiny2photo", base + "/tiny2photo.zip", hashlib.sha256(body).hexdigest())
    root = download.download_dataset("tiny2photo", root=tmp_path / "d", manifest=manifest, progress=False)
    assert root.name == "tiny2photo" and sorted(p.name for p in root.iterdir()) == ["testA", "testB", "trainA", "trainB"]
    assert (tmp_path / "d" / "tiny2photo.zip").read_bytes() == body
    assert not [p for p in (tmp_path / "d").iterdir() if p.name.startswith(".")]  # no temp files left
    unpaired = datasets.cyclegan_folder(root, "train", datasets.PatchConfig(size=32))
    assert unpaired[0]["a"].shape == (3, 32, 32)
    # a second call finds the folder and does not go online
    files.pop("/tiny2photo.zip")
    assert download.download_dataset("tiny2photo", root=tmp_path / "d", manifest=manifest, progress=False) == root


def test_checksum_mismatch_discards_the_file(server, tmp_path):
    base, files = server
    files["/tampered.zip"] = _good_zip()
    manifest = _manifest(tmp_path, "tampered", base + "/tampered.zip", "0" * 64)
    with pytest.raises(download.DownloadError, match="checksum mismatch"):
        download.download_dataset("tampered", root=tmp_path / "d", manifest=manifest, progress=False)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())


def test_mirror_is_tried_after_the_main_url(server, tmp_path):
    base, files = server
    files["/mirror.zip"] = _good_zip()
    manifest = _manifest(tmp_path, "mirrored", base + "/missing.zip", mirrors=[base + "/mirror.zip"])
    root = download.download_dataset("mirrored", root=tmp_path / "d", manifest=manifest, progress=False)
    assert (root / "trainA").is_dir()


def test_offline_message_says_where_to_put_the_archive(tmp_path):
    manifest = _manifest(tmp_path, "far", _closed_port_url())
    with pytest.raises(download.DownloadError) as caught:
        download.download_dataset("far", root=tmp_path / "d", manifest=manifest, progress=False, timeout=5)
    message = str(caught.value)
    assert "offline" in message and str(tmp_path / "d" / "far.zip") in message
    # placing the archive by hand then works without the network
    (tmp_path / "d" / "far.zip").write_bytes(_good_zip())
    root = download.download_dataset("far", root=tmp_path / "d", manifest=manifest, progress=False)
    assert (root / "testB").is_dir()


@pytest.mark.parametrize("body, reason", [
    (_zip_with("../escape.txt"), "outside the target folder"),
    (_zip_with("/tmp/absolute.txt"), "outside the target folder"),
    (_zip_with("set/../../escape.txt"), "outside the target folder"),
    (_zip_with("set/link", symlink=True), "symbolic link"),
    (_tar_with(_file("../escape.txt"), b"x"), "outside the target folder"),
    (_tar_with(_file("/abs.txt"), b"x"), "outside the target folder"),
    (_tar_with(_symlink("set/link", "/etc/passwd")), "points outside"),
    (_tar_with(_symlink("set/link", "../../outside")), "points outside"),
], ids=["zip-dotdot", "zip-absolute", "zip-nested-dotdot", "zip-symlink", "tar-dotdot", "tar-absolute",
        "tar-symlink-absolute", "tar-symlink-relative-out"])
def test_malicious_archives_are_refused_and_leave_nothing(server, tmp_path, body, reason):
    base, files = server
    files["/evil.bin"] = body
    manifest = _manifest(tmp_path, "evil", base + "/evil.bin", archive="tar" if body[:2] == b"\x1f\x8b" else "zip")
    work = tmp_path / "work"
    with pytest.raises(download.UnsafeArchiveError, match=reason):
        download.download_dataset("evil", root=work / "d", manifest=manifest, progress=False)
    assert not (work / "d" / "evil").exists()
    assert not (work / "escape.txt").exists() and not (tmp_path / "escape.txt").exists()
    assert not [p for p in (work / "d").iterdir() if p.name.startswith(".")]


def test_tar_with_links_inside_the_folder_is_fine(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(_tar_with(_symlink("set/trainA/alias.txt", "ok.txt")))
    target = download.safe_extract(archive, tmp_path / "out")
    assert (target / "set" / "trainA" / "ok.txt").read_text() == "ok"


def test_bad_manifest_and_unknown_name(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"datasets": {"x": {"url": "http://a/x.zip", "sha256": "xyz"}}}))
    with pytest.raises(ValueError, match="64 hex digits"):
        download.load_manifest(bad)
    with pytest.raises(KeyError, match="known: ukiyoe2photo|known: cezanne2photo"):
        download.download_dataset("nope", root=tmp_path)
    (tmp_path / "junk.zip").write_bytes(b"not an archive")
    with pytest.raises(download.DownloadError, match="neither a zip nor a tar"):
        download.safe_extract(tmp_path / "junk.zip", tmp_path / "junk")
