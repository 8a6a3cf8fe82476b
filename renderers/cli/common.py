"""What every command group shares: error reporting and tenant lookup."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from trellis.platform.controlplane.accounts import AccountError, find_tenant
from trellis.platform.errors import TrellisError

if TYPE_CHECKING:  # only for annotations: the session and rows come from the platform
    from sqlalchemy.orm import Session

    from trellis.platform.controlplane.tables import Tenant


def tenant_or_exit(session: Session, slug: str) -> Tenant:
    tenant = find_tenant(session, slug)
    if tenant is None:
        raise click.ClickException(f"No tenant {slug!r}; see 'trellis tenants list'.")
    return tenant


class reported:
    """Turn the platform's and accounts' errors into one clear line and exit status 1."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, TrellisError):
            details = "; ".join(f"{p.field}: {p.message}" for p in error.problems)
            click.echo(f"Error: {error.detail} {details}".strip(), err=True)
            sys.exit(1)
        if isinstance(error, AccountError):
            click.echo(f"Error: {error.field}: {error.message}", err=True)
            sys.exit(1)
        return False
