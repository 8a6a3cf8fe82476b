"""Template packages: read, validate, install, upgrade, uninstall and export (see docs/templates.md)."""
