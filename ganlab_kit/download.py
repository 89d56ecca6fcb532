"""Download real image data sets listed in ``data/datasets.json``, carefully.

    from ganlab_kit.download import download_dataset
    root = download_dataset("ukiyoe2photo")      # -> .../ukiyoe2photo with trainA/ trainB/ ...

* a progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal);
* the archive is streamed to a temporary file, checked (size and SHA-256 when the
  manifest knows them) and only then moved into place with ``os.replace``, so an
  interrupted download never looks like a finished one;
* extraction refuses any member that would land outside the target folder (absolute
  paths, ``..``), and any link (zip symlink entries; tar symlinks/hardlinks that leave
  the folder, via tarfile's ``"data"`` filter). Files are extracted into a temporary
  folder first and renamed into place at the end;
* offline, the error says so and tells you where to put an archive fetched by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .datasets import data_dir

MANIFEST_NAME = "datasets.json"
CHUNK_BYTES = 1 << 16


class DownloadError(RuntimeError):
    """A download or extraction that could not be completed; the message says what to do."""


class UnsafeArchiveError(DownloadError):
    """An archive member would escape the target folder, or is a link: nothing was extracted."""


@dataclass(frozen=True)
class DatasetEntry:
    """One data set of the manifest."""

    name: str
    url: str
    archive: str = "zip"  # "zip" or "tar" (any compression tarfile reads)
    sha256: str | None = None
    size_bytes: int | None = None
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
    return Path(__file__).resolve().parents[1] / "data" / MANIFEST_NAME


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
            size_bytes=spec.get("size_bytes"), layout=spec.get("layout", "cyclegan"),
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
    from tqdm.auto import tqdm

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(handle, "wb") as out:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                header = response.headers.get("Content-Length")
                total = int(header) if header and header.isdigit() else size_bytes
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=destination.name,
                          disable=not progress, leave=False) as bar:
                    for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                if total is not None and header and received != int(header):
                    raise DownloadError(f"download of {url} stopped after {received} of {header} bytes; try again")
            out.flush()
            os.fsync(out.fileno())
        if size_bytes is not None and received != size_bytes:
            raise DownloadError(f"{url} gave {received} bytes, the manifest expects {size_bytes}")
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise DownloadError(f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}. "
                                "The file was discarded; the server may have changed it or the transfer was corrupted.")
        os.replace(temp_name, destination)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"could not download {url}: {reason}") from error
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return destination


def _check_member_name(name: str, archive: Path) -> PurePosixPath:
    """Refuse absolute paths, drive letters and ``..`` components; return the relative path."""
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in path.parts:
        raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: member {name!r} would be written "
                                 "outside the target folder (absolute path or '..')")
    return path


def _extract_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        for info in members:  # check everything before writing anything
            _check_member_name(info.filename, archive)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: member {info.filename!r} is a "
                                         "symbolic link, which could point outside the target folder")
        root = into.resolve()
        for info in members:
            target = (into / info.filename).resolve()
            if root not in target.parents and target != root:
                raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: {info.filename!r} escapes the folder")
            zipped.extract(info, into)


def _extract_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tarred:
        members = tarred.getmembers()
        for member in members:
            _check_member_name(member.name, archive)
            if member.issym() or member.islnk():
                link = PurePosixPath(member.linkname.replace("\\", "/"))
                base = PurePosixPath(member.name).parent if member.issym() else PurePosixPath()
                if member.linkname.startswith("/") or ".." in (base / link).parts:
                    raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: link {member.name!r} -> "
                                             f"{member.linkname!r} points outside the target folder")
        try:
            # The "data" filter also refuses device files, absolute links and odd modes.
            tarred.extractall(into, members=members, filter="data")
        except tarfile.FilterError as error:
            raise UnsafeArchiveError(f"refusing to extract {archive.name!r}: {error}") from error


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract a zip or tar archive into ``target`` (which must not exist yet), safely.

    Extraction happens in a temporary sibling folder that is renamed to ``target`` only
    when every member was written: a refused or interrupted archive leaves nothing.
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        raise FileExistsError(f"extraction target {str(target)!r} already exists; remove it to extract again")
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.extract-"))
    try:
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, temp)
        elif tarfile.is_tarfile(archive):
            _extract_tar(archive, temp)
        else:
            raise DownloadError(f"{archive.name!r} is neither a zip nor a tar archive (corrupt or incomplete?)")
        os.replace(temp, target)
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)
    return target


def _dataset_root(extracted: Path) -> Path:
    """CycleGAN zips hold one top folder (``ukiyoe2photo/trainA ...``); step into it."""
    children = [p for p in extracted.iterdir() if not p.name.startswith(".")]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return extracted


def download_dataset(name: str, root: str | Path | None = None, manifest: str | Path | None = None,
                     progress: bool = True, timeout: float = 30.0) -> Path:
    """Fetch, verify and extract a data set of the manifest; return its folder.

    Already extracted: returned at once. Archive already present (e.g. placed by hand):
    verified and extracted. Otherwise downloaded from ``url``, then each mirror.
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
    return _dataset_root(safe_extract(archive, extracted))
