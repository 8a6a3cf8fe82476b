"""The wheel must carry every module and data file, not just what an editable install happens to find."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("metadata", "platform", "renderers", "tenants", "extensions")
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _module_folders() -> set[str]:
    """Folders of the layers that hold Python modules, as dotted ``trellis.*`` names."""
    folders = set()
    for layer in LAYERS:
        for module in (ROOT / layer).rglob("*.py"):
            folder = module.parent.relative_to(ROOT)
            if "migrations" not in folder.parts:  # Alembic's folder ships as package data
                folders.add(".".join(("trellis", *folder.parts)))
    return folders


def test_every_folder_with_modules_is_a_listed_package() -> None:
    missing = _module_folders() - set(SETUPTOOLS["packages"])
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def test_every_data_file_is_covered_by_package_data() -> None:
    patterns = SETUPTOOLS["package-data"]
    for path in ROOT.glob("*/**/*"):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or path.parts[len(ROOT.parts)] not in LAYERS:
            continue
        owner = next((pkg for pkg in sorted(patterns, key=len, reverse=True)
                      if path.relative_to(ROOT).as_posix().startswith(pkg.removeprefix("trellis.").replace(".", "/"))),
                     None)
        assert owner, f"{path.relative_to(ROOT)} is in no package-data entry"
        folder = ROOT / owner.removeprefix("trellis.").replace(".", "/")
        assert any(path.match(str(folder / pattern)) or path in folder.glob(pattern) for pattern in patterns[owner]), \
            f"{path.relative_to(ROOT)} is not matched by package-data for {owner}"
