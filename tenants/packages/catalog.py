"""The templates Trellis ships (``tenants/templates/<name>/``) and how a package finds the ones it builds on."""

from __future__ import annotations

from pathlib import Path

from trellis.platform.errors import NotFound

from .package import Package, read_package

SHIPPED = Path(__file__).resolve().parent.parent / "templates"


def available(folder: Path = SHIPPED) -> list[Package]:
    """Every shipped template, by name."""
    if not folder.is_dir():
        return []
    return [read_package(path) for path in sorted(folder.iterdir()) if (path / "manifest.json").is_file()]


def locate(name_or_path: str) -> Path:
    """A package's path: a shipped template's name (``sales``) or a folder/zip path."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = SHIPPED / name_or_path
    if "/" not in name_or_path and (shipped / "manifest.json").is_file():
        return shipped
    raise NotFound(f"No template package called or at '{name_or_path}'; shipped ones: "
                            f"{', '.join(p.name for p in available()) or 'none'}.")


def bases(package: Package, near: Path | None = None) -> list[Package]:
    """The packages ``package`` builds on (and theirs, first), found beside it or among the shipped ones."""
    found: list[Package] = []
    for need in package.manifest.get("builds_on", []) if isinstance(package.manifest, dict) else []:
        name = need.get("name") if isinstance(need, dict) else None
        candidates = [near / name] if near is not None and name else []
        path = next((p for p in [*candidates, SHIPPED / str(name)] if (p / "manifest.json").is_file()), None)
        if path is not None:
            base = read_package(path)
            found += [*bases(base, path.parent), base]
    return found


def locate_shipped(name: str) -> Path:
    """A shipped template's folder by name only (never a path: what the API may be asked for)."""
    if name.isidentifier() and (SHIPPED / name / "manifest.json").is_file():
        return SHIPPED / name
    raise NotFound(f"Trellis ships no template called '{name}'; shipped ones: "
                   f"{', '.join(p.name for p in available()) or 'none'}.")


def context(package: Package, near: Path | None = None) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
    """The objects and definitions of the packages ``package`` builds on: what it is validated against alone."""
    objects: dict[str, dict] = {}
    definitions: dict[str, dict[str, dict]] = {}
    for base in bases(package, near):
        objects |= base.objects
        for kind, docs in base.definitions.items():
            definitions.setdefault(kind, {}).update(docs)
    return objects, definitions
