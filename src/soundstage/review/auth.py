"""Who may sign in to the review app and what each role may do.

Passwords are kept only as Argon2 hashes. A signed-in browser holds a random session cookie; the database
keeps its SHA-256 (a stolen database opens no session) and the CSRF token its forms must carry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from soundstage.db import CrewMember, Login, now
from soundstage.errors import ProjectError

# What each role may do beyond reading. Directors and producers approve (the human selection the disclosure
# report cites); artists generate; a director also asks for new takes, as in the daily review.
ROLES: dict[str, frozenset[str]] = {
    "director": frozenset({"approve", "generate", "render", "note", "upload"}),
    "producer": frozenset({"approve", "render", "note"}),
    "artist": frozenset({"generate", "render", "note", "upload"}),
    "viewer": frozenset(),
}
SESSION_HOURS = 12
TRIES, LOCKED_SECONDS = 5, 300     # wrong passwords for one name, then that name waits this long
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Member:
    """A signed-in crew member, as a request sees them."""

    name: str
    role: str
    csrf: str

    def may(self, action: str) -> bool:
        return action in ROLES.get(self.role, frozenset())


class Crew:
    """The project's crew list and sign-ins, in the project database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._misses: dict[str, list[float]] = {}     # name → times of its recent wrong passwords (this process)

    def add(self, name: str, role: str, password: str) -> None:
        if not _NAME.match(name):
            raise ProjectError(f"user name {name!r} must be letters, digits, '.', '_', '-' or '@' (up to 100)")
        if role not in ROLES:
            raise ProjectError(f"role {role!r} is not one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise ProjectError("the password must have at least 8 characters")
        with self._sessions.begin() as session:
            if session.get(CrewMember, name) is not None:
                raise ProjectError(f"user {name!r} already exists",
                                   hint="remove them first with 'soundstage user remove'")
            session.add(CrewMember(name=name, role=role, password_hash=_hasher.hash(password)))

    def remove(self, name: str) -> None:
        with self._sessions.begin() as session:
            member = session.get(CrewMember, name)
            if member is None:
                raise ProjectError(f"no user {name!r}")
            session.execute(delete(Login).where(Login.name == name))
            session.delete(member)

    def members(self) -> list[CrewMember]:
        with self._sessions() as session:
            return list(session.scalars(select(CrewMember).order_by(CrewMember.name)))

    def sign_in(self, name: str, password: str) -> str | None:
        """A new session token for the right name and password, else None (which of the two was wrong is not
        said)."""
        with self._sessions() as session:
            member = session.get(CrewMember, name[:100])
        try:
            _hasher.verify(member.password_hash if member else _DECOY, password)
        except (VerificationError, InvalidHashError):
            self._misses.setdefault(name[:100], []).append(time.monotonic())
            return None
        if member is None:
            return None
        self._misses.pop(name, None)
        token = secrets.token_urlsafe(32)
        with self._sessions.begin() as session:
            session.execute(delete(Login).where(Login.expires_at < now()))
            session.add(Login(token_hash=_digest(token), name=member.name,
                              expires_at=now() + timedelta(hours=SESSION_HOURS)))
        return token

    def locked(self, name: str) -> bool:
        """Whether ``name`` had too many wrong passwords lately: guessing gets slow, whoever guesses."""
        recent = [t for t in self._misses.get(name[:100], []) if time.monotonic() - t < LOCKED_SECONDS]
        if recent:
            self._misses[name[:100]] = recent
        else:
            self._misses.pop(name[:100], None)
        return len(recent) >= TRIES

    def member(self, token: str | None) -> Member | None:
        """Who holds this session cookie, if it is current."""
        if not token or len(token) > 100:
            return None
        with self._sessions() as session:
            login = session.get(Login, _digest(token))
            if login is None or login.expires_at < now():
                return None
            member = session.get(CrewMember, login.name)
            return Member(member.name, member.role, _csrf(token)) if member else None

    def sign_out(self, token: str | None) -> None:
        if token:
            with self._sessions.begin() as session:
                session.execute(delete(Login).where(Login.token_hash == _digest(token)))


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _csrf(token: str) -> str:
    """The session's CSRF token, derived from its cookie and never stored: only the cookie's holder can know it,
    and a copy of the database reveals it no more than the cookie."""
    return hmac.new(token.encode(), b"soundstage csrf", hashlib.sha256).hexdigest()
