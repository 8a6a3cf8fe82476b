"""Account rules: users, passwords, memberships and API tokens.

Every function takes the caller's session and only flushes; the caller owns
the transaction and decides when to commit, so an account change can commit
together with whatever else the request does (audit, provisioning...).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trellis.platform.controlplane import audit
from trellis.platform.controlplane.tables import ApiToken, Membership, OutboxMessage, Tenant, User, utcnow

MIN_PASSWORD_LENGTH = 8
#: Long enough for any passphrase, short enough that nobody hashes megabytes for us.
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "trl_"
#: How stale ``ApiToken.last_used_at`` may get; saves a write on every API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: How long a password-reset link works (read at each check, so tests can shorten it).
RESET_LINK_SECONDS = 3600
_RESET_SALT = "trellis.password-reset"

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


def resolve_token(session: Session, plaintext: str, *, tenant_slug: str,
                  ip: str | None = None) -> tuple[User, Tenant, str] | None:
    """Who a bearer token speaks for in ``tenant_slug`` and their role there, or None if it may not.

    A token works only while it is unrevoked, its tenant is active, and its
    user is active and still a member there. Its use is audited with the same
    write that moves ``last_used_at``: at most once a minute per token.
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
        audit.record(session, tenant.id, audit.Who(user.id, user.email, ip), "token_used", _token_target(token))
    return user, tenant, role


def revoke_token(session: Session, token_id: int) -> None:
    """Stop a token from working; revoking it again keeps the first time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise AccountError("token", f"There is no API token with id {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def _token_target(token: ApiToken) -> str:
    return f"token {token.id} {token.prefix}… ({token.name})"


def tokens_of(session: Session, tenant_id: int, user_id: int | None = None) -> list[ApiToken]:
    """A tenant's API tokens, newest first; only ``user_id``'s when given (what a non-admin may see)."""
    query = select(ApiToken).where(ApiToken.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def token_as_dict(token: ApiToken) -> dict[str, object]:
    """What a token's owner may know about it: never the token itself, which is not stored."""
    def iso(moment: object) -> str | None:
        return moment.isoformat() if moment is not None else None  # type: ignore[attr-defined]

    return {"id": token.id, "name": token.name, "prefix": token.prefix, "user_id": token.user_id,
            "created_at": iso(token.created_at), "last_used_at": iso(token.last_used_at),
            "revoked_at": iso(token.revoked_at)}


def revoke_member_token(session: Session, token_id: int, *, tenant_id: int, user_id: int, is_admin: bool) -> ApiToken:
    """Revoke a token of this tenant as ``user_id``: their own, or anyone's if they are an admin.

    Someone else's token looks absent to a non-admin, so ids do not tell
    which tokens exist.
    """
    token = session.get(ApiToken, token_id)
    if token is None or token.tenant_id != tenant_id or (token.user_id != user_id and not is_admin):
        raise AccountError("token", f"There is no API token with id {token_id} that you may revoke.")
    revoke_token(session, token_id)
    return token


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (a stolen session alone cannot take the account)."""
    try:
        _hasher.verify(user.password_hash or _dummy_hash(), current)
    except (VerificationError, InvalidHashError):
        raise AccountError("current_password", "The current password is wrong.") from None
    _set_password(session, user, new)


def _set_password(session: Session, user: User, new: str) -> None:
    _check_length("new_password", new, MAX_PASSWORD_LENGTH, minimum=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(new)
    session.flush()


def _reset_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_RESET_SALT)


def _fingerprint(user: User) -> str:
    """Binds a reset link to the password it replaces: once used (or the password changed), it is dead."""
    return _digest(user.password_hash or "")[:16]


def reset_token(user: User, secret: str) -> str:
    """A signed token for a reset link; valid RESET_LINK_SECONDS and until the password changes."""
    return _reset_serializer(secret).dumps({"user": user.id, "password": _fingerprint(user)})


def user_for_reset(session: Session, token: str, secret: str) -> User:
    """The user a reset token was issued to, if it is genuine, fresh and unused."""
    try:
        data = _reset_serializer(secret).loads(token, max_age=RESET_LINK_SECONDS)
    except SignatureExpired:
        raise AccountError("token", "This reset link has expired; ask for a new one.") from None
    except BadSignature:
        raise AccountError("token", "This reset link is not valid; ask for a new one.") from None
    user = session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or not user.is_active or data.get("password") != _fingerprint(user):
        raise AccountError("token", "This reset link was already used or replaced; ask for a new one.")
    return user


def reset_password(session: Session, token: str, secret: str, new: str) -> User:
    """Set the password through a reset link; the link stops working at once."""
    user = user_for_reset(session, token, secret)
    _set_password(session, user, new)
    return user


def queue_message(session: Session, to: str, subject: str, body: str) -> OutboxMessage:
    """Put a message in the outbox; a sender (not part of this module) mails it and sets ``sent_at``."""
    message = OutboxMessage(to=to, subject=subject[:200], body=body)
    session.add(message)
    session.flush()
    return message


def request_reset(session: Session, tenant: Tenant, email: str, secret: str,
                  link_for: Callable[[str], str]) -> OutboxMessage | None:
    """Queue a reset link for a member of ``tenant`` and return the message; None (and nothing sent) for anyone else.

    The caller must answer the same either way, so nobody learns which addresses have accounts.
    """
    user = find_user(session, email)
    if user is None or not user.is_active or _membership(session, tenant, user) is None:
        return None
    link = link_for(reset_token(user, secret))
    body = (f"Someone asked to reset the password of {user.email} for {tenant.name}.\n\n"
            f"Open this link within an hour to choose a new password (it works once):\n{link}\n\n"
            "If it was not you, ignore this message; your password stays as it is.")
    return queue_message(session, user.email, f"Reset your {tenant.name} password", body)
