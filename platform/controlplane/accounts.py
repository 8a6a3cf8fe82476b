"""Account rules: users, passwords, memberships and API tokens.

Every function takes the caller's session and only flushes; the caller owns
the transaction and decides when to commit, so an account change can commit
together with whatever else the request does (audit, provisioning...).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trellis.platform.controlplane.tables import ApiToken, Membership, Tenant, User, utcnow

MIN_PASSWORD_LENGTH = 8
#: Long enough for any passphrase, short enough that nobody hashes megabytes for us.
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "trl_"
#: How stale ``ApiToken.last_used_at`` may get; saves a write on every API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# A practical shape check; whether the address exists is for a confirmation mail.
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_hasher = PasswordHasher()


class AccountError(Exception):
    """A request the account rules refuse, naming the field a form should mark."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def hash_password(plain: str) -> str:
    """An argon2id hash of ``plain``, with salt and parameters encoded in it."""
    return _hasher.hash(plain)


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-cased."""
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    password: str | None,
    name: str = "",
    locale: str = "en",
) -> User:
    """Add a user; ``password=None`` makes one who cannot sign in yet (invited).

    The insert runs in a savepoint, so a duplicate address - even one created
    by a concurrent request - becomes an AccountError and leaves the caller's
    transaction usable.
    """
    email = normalize_email(email)
    _check_email(email)
    if password is not None:
        _check_length("password", password, MAX_PASSWORD_LENGTH, minimum=MIN_PASSWORD_LENGTH)
    _check_length("name", name, 200, minimum=0)
    _check_length("locale", locale, 16)
    user = User(
        email=email,
        name=name,
        locale=locale,
        password_hash=None if password is None else hash_password(password),
        is_active=True,
    )
    session.flush()  # so a failure of the caller's pending work is not blamed on the email
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise AccountError("email", f"{email} already has an account; sign in or reset the password.") from None
    return user


def _check_email(email: str) -> None:
    if len(email) > 254 or not _EMAIL_SHAPE.match(email):
        raise AccountError("email", f"{email!r} is not an email address like name@example.com.")


def _check_length(field: str, value: str, maximum: int, *, minimum: int = 1) -> None:
    """Refuse what the column cannot hold: PostgreSQL would fail, SQLite would not."""
    if not minimum <= len(value) <= maximum:
        raise AccountError(field, f"The {field} must be {minimum}-{maximum} characters long.")


@cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, verified when there is no real one.

    Doing the same argon2 work for unknown addresses keeps response times from
    telling an attacker which addresses have accounts.
    """
    return hash_password(secrets.token_urlsafe(32))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None.

    A hash made with weaker parameters than today's is replaced on success,
    so raising the argon2 cost upgrades users as they sign in.
    """
    user = find_user(session, email)
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def find_tenant(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def find_member(session: Session, tenant_id: int, user_id: int) -> tuple[User, str] | None:
    """The active user ``user_id`` and their role, if they are a member of the tenant."""
    row = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, User.is_active.is_(True), Membership.tenant_id == tenant_id)
    ).first()
    return None if row is None else (row[0], row[1])


def add_membership(session: Session, tenant: Tenant, user: User, role: str = "admin") -> Membership:
    """Make ``user`` a member of ``tenant``; an existing membership is returned as is.

    An existing member keeps their role: changing a role is a permission
    change and should be asked for explicitly, never happen as a side effect.
    """
    _check_length("role", role, 50)
    session.flush()
    existing = _membership(session, tenant, user)
    if existing is not None:
        return existing
    membership = Membership(tenant=tenant, user=user, role=role)
    try:
        with session.begin_nested():
            session.add(membership)
    except IntegrityError:
        # Added concurrently by another transaction; that one is ours too.
        existing = _membership(session, tenant, user)
        if existing is None:
            raise
        return existing
    return membership


def _membership(session: Session, tenant: Tenant, user: User) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.tenant_id == tenant.id, Membership.user_id == user.id))


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(session: Session, *, tenant: Tenant, user: User, name: str) -> tuple[str, ApiToken]:
    """A new API token for a member of ``tenant``: (plaintext, stored row).

    The plaintext is returned this once and never stored: a leaked database
    must not hand out working tokens. Tokens are high-entropy random
    strings, so a plain sha256 (not a slow password hash) is enough.
    """
    name = name.strip()
    _check_length("name", name, 100)
    session.flush()
    if _membership(session, tenant, user) is None:
        raise AccountError("user", f"{user.email} is not a member of {tenant.slug}.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        tenant=tenant,
        user=user,
        name=name,
        token_hash=_digest(plaintext),
        prefix=plaintext[:12],
    )
    session.add(token)
    session.flush()
    return plaintext, token


def resolve_token(session: Session, plaintext: str, *, tenant_slug: str) -> tuple[User, Tenant, str] | None:
    """Who a bearer token speaks for in ``tenant_slug`` and their role there, or None if it may not.

    A token works only while it is unrevoked, its tenant is active, and its
    user is active and still a member there.
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = session.execute(
        select(ApiToken, User, Tenant, Membership.role)
        .join(User, User.id == ApiToken.user_id)
        .join(Tenant, Tenant.id == ApiToken.tenant_id)
        .join(
            Membership,
            (Membership.tenant_id == ApiToken.tenant_id) & (Membership.user_id == ApiToken.user_id),
        )
        .where(
            ApiToken.token_hash == _digest(plaintext),
            ApiToken.revoked_at.is_(None),
            Tenant.slug == tenant_slug,
            Tenant.status == "active",
            User.is_active.is_(True),
        )
    ).first()
    if row is None:
        return None
    token, user, tenant, role = row
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return user, tenant, role


def revoke_token(session: Session, token_id: int) -> None:
    """Stop a token from working; revoking it again keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise AccountError("token", f"There is no API token with id {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
