"""A template package on disk: a folder or a .zip, read into plain documents and written back byte for byte.

Layout (docs/templates.md): ``manifest.json``; ``objects/<api_name>.json``;
``<plural>/<api_name>.json`` for each definition kind (``roles/``, ``reports/`` …);
``data/<object>.csv`` seed records; ``translations/<locale>.json`` extra labels.
Reading never stops at the first problem: every unreadable file is reported
with its name, so ``trellis templates validate`` can list them all at once.
Writing is deterministic (sorted keys, 2-space JSON, trailing newline, fixed zip
timestamps) so two exports of one configuration are identical and diff cleanly.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from trellis.metadata import definitions as kinds
from trellis.platform.errors import FieldProblem, InvalidInput

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: The most a package may unpack to: templates are configuration and sample data, not bulk data.
MAX_UNPACKED = 64 * 1024 * 1024


@dataclass(frozen=True)
class PackageProblem:
    """One thing wrong with a package: the file, the JSON path inside it, and what to do."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} {self.path}: {self.message}"


@dataclass
class Package:
    manifest: dict[str, Any]
    #: Object documents by api_name, in file-name order.
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Definitions by kind name, then api_name (without "kind" and "id").
    definitions: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: Seed data: CSV text by object api_name.
    data: dict[str, str] = field(default_factory=dict)
    #: Extra labels by locale: {"account": "…", "account.industry": "…", "account.industry.retail": "…"}.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Files that could not be read (bad JSON, unknown folder…), found while reading.
    problems: list[PackageProblem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))


def read_package(source: str | Path) -> Package:
    """Read a package folder or .zip; a missing manifest or a bad file is listed in ``problems``."""
    files = _files(Path(source))
    package = Package(manifest={})
    if "manifest.json" not in files:
        package.problems.append(PackageProblem("manifest.json", "$", "The package has no manifest.json at its top."))
    for name in sorted(files):
        _read_file(package, name, files[name])
    return package


def _files(source: Path) -> dict[str, bytes]:
    """Every file of the package by its path inside it (a zip holding one top folder is read from that folder)."""
    if source.is_dir():
        return {p.relative_to(source).as_posix(): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    if not source.is_file() or not zipfile.is_zipfile(source):
        raise InvalidInput("This is not a template package.", [FieldProblem(
            "$", f"{source.name} is neither a folder nor a zip file; send a package folder or .zip.")])
    with zipfile.ZipFile(source) as archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if sum(info.file_size for info in entries) > MAX_UNPACKED:
            raise InvalidInput("The package is too large.", [FieldProblem(
                "$", f"A template package may unpack to at most {MAX_UNPACKED // 2**20} MB; import bulk data with "
                     "the CSV import instead.")])
        files = {info.filename: archive.read(info) for info in entries}
    tops = {PurePosixPath(name).parts[0] for name in files}
    if "manifest.json" not in files and len(tops) == 1:
        files = {name.split("/", 1)[1]: content for name, content in files.items() if "/" in name}
    return files


def _read_file(package: Package, name: str, content: bytes) -> None:
    parts = PurePosixPath(name).parts
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    if name == "manifest.json" or (len(parts) == 2 and suffix == ".json"):
        doc = _json(package, name, content)
        if doc is None:
            return
        if name == "manifest.json":
            package.manifest = doc
        elif parts[0] == "objects":
            package.objects[stem] = doc
        elif parts[0] == "translations":
            package.translations[stem] = doc
        elif (kind := kinds.kind_of(parts[0])) is not None:
            package.definitions.setdefault(kind.name, {})[stem] = doc
        else:
            known = ", ".join(["objects", *(k.plural for k in kinds.KINDS.values()), "data", "translations"])
            package.problems.append(PackageProblem(name, "$", f"Trellis has no kind of document called "
                                                              f"'{parts[0]}'; use one of these folders: {known}."))
    elif len(parts) == 2 and parts[0] == "data" and suffix == ".csv":
        package.data[stem] = content.decode("utf-8-sig")
    elif parts[-1] not in ("README.md", "LICENSE", ".DS_Store"):
        package.problems.append(PackageProblem(name, "$", "This file is not part of a template package; move it "
                                                          "into objects/, data/, translations/ or a kind's folder."))


def _json(package: Package, name: str, content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        where = f"line {error.lineno}, column {error.colno}: " if isinstance(error, json.JSONDecodeError) else ""
        package.problems.append(PackageProblem(name, "$", f"Not valid JSON ({where}{error.args[0]})."))
        return None


def dump_json(doc: Any) -> bytes:
    """The one way packages write JSON: sorted keys, 2 spaces, UTF-8 as is, a trailing newline."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def package_files(package: Package) -> dict[str, bytes]:
    """The package's files by path, ready to write."""
    files = {"manifest.json": dump_json(package.manifest)}
    files |= {f"objects/{name}.json": dump_json(doc) for name, doc in package.objects.items()}
    for kind, docs in package.definitions.items():
        files |= {f"{kinds.KINDS[kind].plural}/{name}.json": dump_json(doc) for name, doc in docs.items()}
    files |= {f"data/{name}.csv": text.encode("utf-8") for name, text in package.data.items()}
    files |= {f"translations/{locale}.json": dump_json(doc) for locale, doc in package.translations.items()}
    return dict(sorted(files.items()))


def write_package(package: Package, target: str | Path) -> Path:
    """Write the package as a folder, or as a zip when ``target`` ends in .zip; returns the path written."""
    target = Path(target)
    files = package_files(package)
    if target.suffix == ".zip":
        target.write_bytes(zip_bytes(files))
        return target
    for name, content in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` whose bytes depend only on their names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()
