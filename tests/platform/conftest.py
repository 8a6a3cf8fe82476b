"""Fixtures for the storage, configuration, record and query tests; both backends.

``crm`` is built on the root conftest's ``platform`` and ``tenant``, so it runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from crm_kit import Crm

from trellis.platform.core import Platform
from trellis.platform.records.service import Actor


@pytest.fixture
def crm(platform: Platform, tenant: str) -> Crm:
    """An empty tenant, acting as an admin with user id 7."""
    return Crm(platform, tenant, Actor(user_id=7))


@pytest.fixture
def sales(crm: Crm) -> Crm:
    """A tenant with the account and deal objects."""
    crm.sales()
    return crm
