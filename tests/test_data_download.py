"""Downloader and extractor against a local HTTP server on 127.0.0.1 (no internet); decompression bombs."""

import hashlib
import io
import json
import re
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from ganlab_kit import data
from ganlab_kit.data import download


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
            info.external_attr = 0o120777 << 16  # a symlink entry; its data is the link target
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


def _manifest(tmp_path, name, url, sha256=None, archive="zip", mirrors=(), extracted_bytes=None):
    path = tmp_path / "manifest.json"
    path.write_text(
        json.dumps(
            {
                "format": 1,
                "datasets": {
                    name: {
                        "url": url,
                        "sha256": sha256,
                        "archive": archive,
                        "mirrors": list(mirrors),
                        "licence": "test",
                        "extracted_bytes": extracted_bytes,
                    }
                },
            }
        )
    )
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
    assert root.name == "tiny2photo" and sorted(p.name for p in root.iterdir()) == [
        "testA",
        "testB",
        "trainA",
        "trainB",
    ]
    assert (tmp_path / "d" / "tiny2photo.zip").read_bytes() == body
    assert not [p for p in (tmp_path / "d").iterdir() if p.name.startswith(".")]  # no temp files left
    unpaired = data.cyclegan_folder(root, "train", data.PatchConfig(size=32))
    assert unpaired[0]["A"].shape == (3, 32, 32)
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


@pytest.mark.parametrize(
    "body, reason",
    [
        (_zip_with("../escape.txt"), "outside the target folder"),
        (_zip_with("/tmp/absolute.txt"), "outside the target folder"),
        (_zip_with("set/../../escape.txt"), "outside the target folder"),
        (_zip_with("set/link", symlink=True), "symbolic link"),
        (_tar_with(_file("../escape.txt"), b"x"), "outside the target folder"),
        (_tar_with(_file("/abs.txt"), b"x"), "outside the target folder"),
        (_tar_with(_symlink("set/link", "/etc/passwd")), "points outside"),
        (_tar_with(_symlink("set/link", "../../outside")), "points outside"),
    ],
    ids=[
        "zip-dotdot",
        "zip-absolute",
        "zip-nested-dotdot",
        "zip-symlink",
        "tar-dotdot",
        "tar-absolute",
        "tar-symlink-absolute",
        "tar-symlink-relative-out",
    ],
)
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
    bad.write_text(json.dumps({"datasets": {"x": {"url": "http://a/x.zip", "extracted_bytes": "lots"}}}))
    with pytest.raises(ValueError, match="'x': extracted_bytes must be a whole number of bytes"):
        download.load_manifest(bad)
    with pytest.raises(KeyError, match="known: ukiyoe2photo|known: cezanne2photo"):
        download.download_dataset("nope", root=tmp_path)
    (tmp_path / "junk.zip").write_bytes(b"not an archive")
    with pytest.raises(download.DownloadError, match="neither a zip nor a tar"):
        download.safe_extract(tmp_path / "junk.zip", tmp_path / "junk")


# ------------------------------------------------------------ decompression bombs
class _Zeros:
    """A file object that reads ``size`` zero bytes without holding them in memory."""

    def __init__(self, size: int):
        self.left = size

    def read(self, count: int = -1) -> bytes:
        count = self.left if count < 0 else min(count, self.left)
        self.left -= count
        return bytes(count)


def _zeros_zip(mebibytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb/zeros.bin", "w") as member:
            for _ in range(mebibytes):
                member.write(bytes(1 << 20))
    return buffer.getvalue()


def _zeros_tar(mebibytes: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("bomb/zeros.bin")
        info.size = mebibytes << 20
        archive.addfile(info, _Zeros(info.size))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bombs():
    """200 MiB of zeros packed into about 200 KB, as a zip and as a tar.gz."""
    return {"zip": _zeros_zip(200), "tar.gz": _zeros_tar(200)}


def _nothing_extracted(folder, target):
    assert not target.exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary folder left


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_decompression_bomb_is_refused_before_writing_anything(bombs, tmp_path, kind):
    archive = tmp_path / f"bomb.{kind}"
    archive.write_bytes(bombs[kind])
    assert archive.stat().st_size < 300_000
    with pytest.raises(download.ArchiveTooLargeError) as caught:
        download.safe_extract(archive, tmp_path / "out")
    message = str(caught.value)
    for says in (
        "declare 200.0 MiB uncompressed",
        f"from a {_kib(archive)} archive",
        "over the cap of",
        "100x the archive's size",
        "decompression bomb",
        "nothing was written",
        "max_bytes=",
    ):
        assert says in message, (says, message)
    ratio = int(re.search(r"archive \((\d+)x\)", message).group(1))
    assert ratio == (200 << 20) // archive.stat().st_size
    _nothing_extracted(tmp_path, tmp_path / "out")


def _kib(path):
    return f"{path.stat().st_size / 1024:.1f} KiB"


def test_bomb_through_download_dataset_is_refused_and_the_override_extracts(server, tmp_path):
    base, files = server
    body = _zeros_zip(5)  # 5 MiB of zeros in a few KB: far over 100x
    files["/zeros.zip"] = body
    manifest = _manifest(tmp_path, "zeros", base + "/zeros.zip")
    root = tmp_path / "d"
    with pytest.raises(download.ArchiveTooLargeError, match="max_extracted_bytes="):
        download.download_dataset("zeros", root=root, manifest=manifest, progress=False)
    _nothing_extracted(root, root / "zeros")
    assert (root / "zeros.zip").read_bytes() == body  # the verified archive stays for a second try
    # the override: the caller trusts this archive
    folder = download.download_dataset(
        "zeros", root=root, manifest=manifest, progress=False, max_extracted_bytes=6 << 20
    )
    assert (folder / "zeros.bin").stat().st_size == 5 << 20
    archive = tmp_path / "again.zip"
    archive.write_bytes(body)
    with pytest.raises(download.ArchiveTooLargeError, match="max_bytes=1048576"):
        download.safe_extract(archive, tmp_path / "small", max_bytes=1 << 20)
    assert (download.safe_extract(archive, tmp_path / "big", max_ratio=5000) / "bomb" / "zeros.bin").is_file()


def test_manifest_extracted_size_sets_the_cap(server, tmp_path):
    base, files = server
    body = _good_zip()
    files["/sized.zip"] = body
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        real = sum(info.file_size for info in archive.infolist())
    # a manifest that states far less than the members declare: refused, naming the manifest
    archive = tmp_path / "sized.zip"
    archive.write_bytes(_zeros_zip(3))
    with pytest.raises(download.ArchiveTooLargeError, match="the manifest states 1.0 KiB extracted"):
        download.safe_extract(archive, tmp_path / "out", expected_bytes=1024)
    _nothing_extracted(tmp_path, tmp_path / "out")
    # the stated size replaces the ratio rule: 3 MiB of zeros pass when the manifest says so
    assert download.safe_extract(archive, tmp_path / "out", expected_bytes=3 << 20).is_dir()
    manifest = _manifest(tmp_path, "sized", base + "/sized.zip", extracted_bytes=real)
    assert download.load_manifest(manifest)["sized"].extracted_bytes == real
    root = download.download_dataset("sized", root=tmp_path / "d", manifest=manifest, progress=False)
    assert (root / "trainA").is_dir()


def test_not_enough_free_disk_is_refused(tmp_path, monkeypatch):
    archive = tmp_path / "ok.zip"
    archive.write_bytes(_good_zip())
    usage = download.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(download.shutil, "disk_usage", lambda path: usage._replace(free=1 << 20))
    with pytest.raises(download.ArchiveTooLargeError, match="only 1.0 MiB is free"):
        download.safe_extract(archive, tmp_path / "out")
    _nothing_extracted(tmp_path, tmp_path / "out")


def test_a_member_that_expands_beyond_its_header_is_stopped_and_removed(tmp_path, monkeypatch):
    archive = tmp_path / "liar.zip"
    archive.write_bytes(_good_zip())  # headers declare a few KB in all
    # As if the decompressor trusted the data stream rather than the header: 2 MiB per member.
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, info, mode="r", **kwargs: io.BytesIO(bytes(2 << 20)))
    with pytest.raises(download.ArchiveTooLargeError, match="the headers lie"):
        download.safe_extract(archive, tmp_path / "out")
    _nothing_extracted(tmp_path, tmp_path / "out")


def test_a_zip_whose_size_field_lies_is_corrupt_and_leaves_nothing(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("set/data.bin", bytes(range(256)) * 400)  # 102,400 bytes
    body = bytearray(buffer.getvalue())
    central = body.rindex(b"PK\x01\x02")
    body[central + 24 : central + 28] = (1000).to_bytes(4, "little")  # the directory now claims 1,000 bytes
    (tmp_path / "lying.zip").write_bytes(bytes(body))
    with pytest.raises(download.DownloadError, match="corrupt"):
        download.safe_extract(tmp_path / "lying.zip", tmp_path / "out")
    _nothing_extracted(tmp_path, tmp_path / "out")
