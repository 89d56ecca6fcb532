"""Download real image data sets listed in ``data/datasets.json``, carefully.

    from ganlab_kit.data import download_dataset
    root = download_dataset("ukiyoe2photo")      # -> .../ukiyoe2photo with trainA/ trainB/ ...

* a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal);
* the archive is streamed to the temporary file of :func:`ganlab_kit.runtime.atomic_path`,
  checked (size and SHA-256 when the manifest knows them) and only then renamed into
  place, so an interrupted download never looks like a finished one;
* extraction refuses any member that would land outside the target folder (absolute
  paths, ``..``), and any link (zip symlink entries; tar symlinks/hardlinks that leave
  the folder, via tarfile's ``"data"`` filter);
* extraction refuses a decompression bomb before writing anything: the members' declared
  total must fit under a cap (the manifest's ``extracted_bytes`` plus a margin, else
  :data:`MAX_RATIO` times the archive's size) and in the free disk space; the bytes
  actually written are counted too, in case a header lies. ``max_bytes`` overrides;
* files are extracted into a temporary folder first and renamed into place at the end;
* offline, the error says so and tells you where to put an archive fetched by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Callable

from ..runtime import atomic_path, data_dir

MANIFEST_NAME = "datasets.json"
CHUNK_BYTES = 1 << 16
MAX_RATIO = 100.0  # image archives (PNG/JPEG inside) barely compress; 100x is far beyond any real set
MIN_CAP_BYTES = 1 << 20  # below 1 MiB nothing is worth refusing, whatever the ratio
STATED_MARGIN = 0.05  # a manifest's extracted size may be a little off (rounding, edits)
DISK_RESERVE_BYTES = 16 << 20  # leave this much free after extracting (plus 5% of the total)


class DownloadError(RuntimeError):
    """A download or extraction that could not be completed; the message says what to do."""


class UnsafeArchiveError(DownloadError):
    """An archive member would escape the target folder, or is a link: nothing was extracted."""


class ArchiveTooLargeError(UnsafeArchiveError):
    """An archive would expand beyond its cap or the free disk space (a decompression bomb,
    a wrong manifest, or a full disk): nothing was left on disk."""


@dataclass(frozen=True)
class DatasetEntry:
    """One data set of the manifest."""

    name: str
    url: str
    archive: str = "zip"  # "zip" or "tar" (any compression tarfile reads)
    sha256: str | None = None
    size_bytes: int | None = None  # of the archive
    extracted_bytes: int | None = None  # total of the extracted files: caps extraction
    layout: str = "cyclegan"
    licence: str = "unknown"
    cultural_note: str = ""
    source: str = ""
    mirrors: tuple[str, ...] = field(default_factory=tuple)
    domains: dict = field(default_factory=dict)

    @property
    def archive_name(self) -> str:
        return f"{self.name}.zip" if self.archive == "zip" else f"{self.name}.tar"


def default_manifest_path() -> Path:
    """The manifest committed with the kit (``data/datasets.json`` of the checkout)."""
    return Path(__file__).resolve().parents[2] / "data" / MANIFEST_NAME


def _optional_size(spec: dict, key: str, name: str) -> int | None:
    value = spec.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"manifest entry {name!r}: {key} must be a whole number of bytes or null, got {value!r}")
    return value


def load_manifest(path: str | Path | None = None) -> dict[str, DatasetEntry]:
    """Read and check the manifest; errors name the entry and the field."""
    path = Path(path) if path is not None else default_manifest_path()
    if not path.is_file():
        raise FileNotFoundError(f"data set manifest {str(path)!r} not found")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"manifest {path.name!r} is not valid JSON: {error}") from error
    entries = {}
    for name, spec in raw.get("datasets", {}).items():
        if "url" not in spec:
            raise ValueError(f"manifest entry {name!r} has no 'url'")
        if spec.get("archive", "zip") not in ("zip", "tar"):
            raise ValueError(f"manifest entry {name!r}: archive must be 'zip' or 'tar'")
        checksum = spec.get("sha256")
        if checksum is not None and (len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum.lower())):
            raise ValueError(f"manifest entry {name!r}: sha256 must be 64 hex digits or null")
        entries[name] = DatasetEntry(
            name=name, url=spec["url"], archive=spec.get("archive", "zip"), sha256=checksum,
            size_bytes=_optional_size(spec, "size_bytes", name),
            extracted_bytes=_optional_size(spec, "extracted_bytes", name), layout=spec.get("layout", "cyclegan"),
            licence=spec.get("licence", "unknown"), cultural_note=spec.get("cultural_note", ""),
            source=spec.get("source", ""), mirrors=tuple(spec.get("mirrors", ())), domains=spec.get("domains", {}),
        )
    return entries


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url: str, destination: str | Path, sha256: str | None = None, size_bytes: int | None = None,
          progress: bool = True, timeout: float = 30.0) -> Path:
    """Stream ``url`` to ``destination`` with a progress bar; verify; move into place atomically.

    Raises ``DownloadError`` when the host cannot be reached, the transfer is cut short,
    or the size / checksum differs (the partial file is removed in every case).
    """
    from tqdm.auto import tqdm  # here, not at import: tqdm.auto pulls in IPython inside Jupyter

    destination = Path(destination)
    digest = hashlib.sha256()
    received = 0
    try:
        # The bytes go to atomic_path's temporary file; an exception below removes it.
        with atomic_path(destination, suffix=".part") as temporary:
            with open(temporary, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                header = response.headers.get("Content-Length")
                total = int(header) if header and header.isdigit() else size_bytes
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=destination.name,
                          disable=not progress, leave=False) as bar:
                    for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                if header and header.isdigit() and received != int(header):
                    raise DownloadError(f"download of {url} stopped after {received} of {header} bytes; try again")
            if size_bytes is not None and received != size_bytes:
                raise DownloadError(f"{url} gave {received} bytes, the manifest expects {size_bytes}")
            actual = digest.hexdigest()
            if sha256 is not None and actual != sha256.lower():
                raise DownloadError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}. The file "
                                    "was discarded; the server may have changed it or the transfer was corrupted.")
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"could not download {url}: {reason}") from error
    return destination


# ---------------------------------------------------------------- extraction
def _check_member_name(name: str, archive: Path) -> PurePosixPath:
    """Refuse absolute paths, drive letters and ``..`` components; return the relative path."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in path.parts:
        raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: member {name!r} would be written "
                                 "outside the target folder (absolute path or '..')")
    return path


def _check_zip(zipped: zipfile.ZipFile, archive: Path) -> int:
    """Check every member's name and type; return the declared uncompressed total."""
    for info in zipped.infolist():
        _check_member_name(info.filename, archive)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: member {info.filename!r} is a "
                                     "symbolic link, which could point outside the target folder")
    return sum(info.file_size for info in zipped.infolist() if not info.is_dir())


def _check_tar(members: list[tarfile.TarInfo], archive: Path) -> int:
    """Check every member's name and links; return the declared total of its files."""
    for member in members:
        _check_member_name(member.name, archive)
        if member.issym() or member.islnk():
            link = PurePosixPath(member.linkname.replace("\\", "/"))
            base = PurePosixPath(member.name).parent if member.issym() else PurePosixPath()
            if member.linkname.startswith("/") or ".." in (base / link).parts:
                raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: link {member.name!r} -> "
                                         f"{member.linkname!r} points outside the target folder")
    return sum(member.size for member in members if member.isfile())


def _size(count: float) -> str:
    """Bytes for people: ``209715200`` -> ``"200.0 MiB"``."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


_OVERRIDE = ("If you trust this archive, raise the cap: safe_extract(..., max_bytes=N) or "
             "download_dataset(..., max_extracted_bytes=N).")


def _check_expansion(archive: Path, declared: int, destination: Path, expected_bytes: int | None,
                     max_bytes: int | None, max_ratio: float) -> None:
    """Refuse, before anything is written, an archive whose members declare more bytes than
    its cap or than the free disk space can take. The message gives sizes, ratio and cap."""
    packed = archive.stat().st_size
    ratio = declared / max(packed, 1)
    if max_bytes is not None:
        cap, rule = max_bytes, f"max_bytes={max_bytes}"
    elif expected_bytes is not None:
        cap = int(expected_bytes * (1 + STATED_MARGIN)) + MIN_CAP_BYTES
        rule = f"the manifest states {_size(expected_bytes)} extracted, plus a {STATED_MARGIN:.0%} margin and 1 MiB"
    else:
        cap = max(int(max_ratio * packed), MIN_CAP_BYTES)
        rule = f"{max_ratio:g}x the archive's size; the manifest states no extracted_bytes"
    if declared > cap:
        raise ArchiveTooLargeError(
            f"refusing to extract {archive.name!r}: its members declare {_size(declared)} uncompressed from a "
            f"{_size(packed)} archive ({ratio:.0f}x), over the cap of {_size(cap)} ({rule}). This looks like a "
            f"decompression bomb or a wrong manifest entry; nothing was written. {_OVERRIDE}")
    free = shutil.disk_usage(destination).free
    needed = declared + declared // 20 + DISK_RESERVE_BYTES
    if needed > free:
        raise ArchiveTooLargeError(
            f"refusing to extract {archive.name!r}: its members declare {_size(declared)} uncompressed, but only "
            f"{_size(free)} is free in {str(destination)!r} (extracting needs {_size(needed)} with a margin); "
            "nothing was written. Free some space or extract elsewhere.")


def _copy_counted(source: IO[bytes], out: IO[bytes], written: int, budget: int, archive: Path) -> int:
    """Copy ``source`` to ``out`` while the archive's running total stays within ``budget``."""
    for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
        written += len(chunk)
        if written > budget:
            raise ArchiveTooLargeError(
                f"refusing to extract {archive.name!r}: it expanded beyond the {_size(budget)} its headers "
                f"declare (the headers lie: a decompression bomb or a corrupt file); extraction stopped and "
                f"everything written was removed. {_OVERRIDE}")
        out.write(chunk)
    return written


def _write_zip(zipped: zipfile.ZipFile, into: Path, budget: int, archive: Path) -> None:
    root, written = into.resolve(), 0
    for info in zipped.infolist():
        target = (into / info.filename).resolve()
        if root not in target.parents and target != root:
            raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: {info.filename!r} escapes the folder")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipped.open(info) as source, open(target, "wb") as out:
            written = _copy_counted(source, out, written, budget, archive)


def _write_tar(tarred: tarfile.TarFile, members: list[tarfile.TarInfo], into: Path, budget: int,
               archive: Path) -> None:
    written = 0
    for member in members:
        # The "data" filter also refuses device files, absolute links and odd modes.
        tarred.extract(member, into, filter="data")
        if member.isfile():
            written += (into / member.name).stat().st_size  # what reached the disk, not the header
            if written > budget:
                raise ArchiveTooLargeError(
                    f"refusing to extract {archive.name!r}: it wrote more than the {_size(budget)} its headers "
                    f"declare; extraction stopped and everything written was removed. {_OVERRIDE}")


def _extract_via_temp(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(folder)`` on a temporary sibling of ``target``, renamed to ``target`` only
    when every member was written: a refused or interrupted archive leaves nothing."""
    temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.extract-"))
    try:
        write(temp)
        os.replace(temp, target)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return target


def safe_extract(archive: str | Path, target: str | Path, *, expected_bytes: int | None = None,
                 max_bytes: int | None = None, max_ratio: float = MAX_RATIO) -> Path:
    """Extract a zip or tar archive into ``target`` (which must not exist yet), safely.

    Before writing anything, every member is checked (no escaping paths, no links out of
    the folder) and the members' declared uncompressed total must stay under a cap:

    * ``max_bytes`` when given (the override for an archive you trust);
    * else ``expected_bytes`` (the manifest's ``extracted_bytes``) plus 5% and 1 MiB;
    * else ``max_ratio`` times the archive's size (at least 1 MiB);

    and it must fit in the free disk space with a margin. Otherwise
    :class:`ArchiveTooLargeError` says the sizes, the ratio, the cap and how to override.
    While extracting, the bytes actually written are counted against the declared total.
    Extraction happens in a temporary sibling folder renamed to ``target`` at the end.
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        raise FileExistsError(f"extraction target {str(target)!r} already exists; remove it to extract again")
    if max_ratio <= 0 or (max_bytes is not None and max_bytes < 0):
        raise ValueError(f"max_ratio must be > 0 and max_bytes >= 0, got {max_ratio} and {max_bytes}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zipped:
                declared = _check_zip(zipped, archive)
                _check_expansion(archive, declared, target.parent, expected_bytes, max_bytes, max_ratio)
                return _extract_via_temp(target, lambda into: _write_zip(zipped, into, declared, archive))
        if tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tarred:
                members = tarred.getmembers()
                declared = _check_tar(members, archive)
                _check_expansion(archive, declared, target.parent, expected_bytes, max_bytes, max_ratio)
                return _extract_via_temp(target, lambda into: _write_tar(tarred, members, into, declared, archive))
    except tarfile.FilterError as error:
        raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: {error}") from error
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as error:
        raise DownloadError(f"{archive.name!r} is corrupt ({error}); delete it and download again") from error
    raise DownloadError(f"{archive.name!r} is neither a zip nor a tar archive (corrupt or incomplete?)")


def _dataset_root(extracted: Path) -> Path:
    """CycleGAN zips hold one top folder (``ukiyoe2photo/trainA ...``); step into it."""
    children = [p for p in extracted.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return extracted


def download_dataset(name: str, root: str | Path | None = None, manifest: str | Path | None = None,
                     progress: bool = True, timeout: float = 30.0, max_extracted_bytes: int | None = None) -> Path:
    """Fetch, verify and extract a data set of the manifest; return its folder.

    Already extracted: returned at once. Archive already present (e.g. placed by hand):
    verified and extracted. Otherwise downloaded from ``url``, then each mirror.
    ``max_extracted_bytes`` overrides the extraction cap (see :func:`safe_extract`).
    """
    entries = load_manifest(manifest)
    if name not in entries:
        raise KeyError(f"no data set {name!r} in the manifest; known: {', '.join(sorted(entries))}")
    entry = entries[name]
    root = Path(root) if root is not None else data_dir() / "datasets"
    extracted = root / name
    if extracted.is_dir():
        return _dataset_root(extracted)
    archive = root / entry.archive_name
    if archive.is_file():
        if entry.sha256 is not None and sha256_of(archive) != entry.sha256.lower():
            raise DownloadError(f"{str(archive)!r} does not match the manifest's sha256 {entry.sha256}; "
                                "delete it and download again")
    else:
        errors = []
        for url in (entry.url, *entry.mirrors):
            try:
                fetch(url, archive, entry.sha256, entry.size_bytes, progress, timeout)
                break
            except DownloadError as error:
                errors.append(str(error))
        else:
            raise DownloadError(
                f"could not download data set {name!r}:\n  " + "\n  ".join(errors) + "\n"
                f"If this machine is offline, download {entry.url} on a machine that is online and place "
                f"the file at {archive} ; then call download_dataset({name!r}) again: it will be verified "
                "and extracted without going online."
            )
    if entry.sha256 is None:
        print(f"{archive.name}: sha256 {sha256_of(archive)} (not in the manifest yet; add it to pin this file)")
    folder = safe_extract(archive, extracted, expected_bytes=entry.extracted_bytes, max_bytes=max_extracted_bytes)
    if entry.extracted_bytes is None:
        total = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
        print(f"{name}: {total} bytes extracted (add \"extracted_bytes\": {total} to the manifest to cap this exactly)")
    return _dataset_root(folder)
