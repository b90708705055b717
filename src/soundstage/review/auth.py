"""Who may sign in to the review app and what each role may do.

Passwords are kept only as Argon2 hashes. A signed-in browser holds a random session cookie; the database
keeps only its SHA-256, and the CSRF token its forms carry is derived from the cookie, so a stolen database
opens no session and forges no form.

Guessing is slowed, never locked: wrong passwords from one address, and for one name, make the next try from
there wait, doubling up to a cap (:class:`Throttle`). A lock would let anyone shut the director out; a wait per
address does not, and the name's wait is skipped at addresses the member has signed in from. The counts are
in the database, so restarts and several workers share them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from soundstage import journal
from soundstage.db import CrewMember, Login, SignInPlace, SignInTries, journal_folder, now, row_fields
from soundstage.errors import ProjectError, SoundstageError
from soundstage.words import LANGUAGES

# What each role may do beyond reading. Directors and producers approve (the human selection the disclosure
# report cites); artists generate; a director also asks for new takes, as in the daily review.
ROLES: dict[str, frozenset[str]] = {
    "director": frozenset({"approve", "generate", "render", "note", "upload"}),
    "producer": frozenset({"approve", "render", "note"}),
    "artist": frozenset({"generate", "render", "note", "upload"}),
    "viewer": frozenset(),
}
SESSION_HOURS = 12
PLACE_DAYS = 90                    # an address a member signed in from is theirs for this long
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Throttle:
    """How guessing is slowed: after ``free`` wrong passwords from an address (or for a name), each try from
    there waits ``first`` seconds, doubling up to ``cap``; a count is forgotten after ``forget`` seconds without a
    miss. ``clock`` (naive UTC) is replaceable so that tests need not sleep."""

    free: int = 3
    first: float = 1.0
    cap: float = 300.0
    forget: float = 24 * 3600.0
    clock: Callable[[], datetime] = now

    def wait(self, misses: int) -> float:
        """Seconds before the next try, after ``misses`` wrong passwords."""
        return 0.0 if misses < self.free else min(self.first * 2.0 ** (misses - self.free), self.cap)


class Throttled(SoundstageError):
    """Too many wrong passwords lately from this address, or for this name: the try must wait ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"too many wrong passwords from here or for this name: try again in {seconds} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Member:
    """A signed-in crew member, as a request sees them."""

    name: str
    role: str
    csrf: str
    language: str = "en"             # the words the app shows them: en or ko

    def may(self, action: str) -> bool:
        return action in ROLES.get(self.role, frozenset())


class Crew:
    """The project's crew list and sign-ins, in the project database. Who is on the crew, with their role, password
    hash and language, is journalled beside it (a rebuilt database keeps them); sign-ins are not."""

    def __init__(self, sessions: sessionmaker[Session], *, throttle: Throttle | None = None) -> None:
        self._sessions = sessions
        self._journal = journal_folder(sessions)
        self.throttle = throttle or Throttle()

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
            member = CrewMember(name=name, role=role, password_hash=_hasher.hash(password), created_at=now(),
                                language="en")
            session.add(member)
        self._write_down("crew", row_fields(member))

    def remove(self, name: str) -> None:
        with self._sessions.begin() as session:
            member = session.get(CrewMember, name)
            if member is None:
                raise ProjectError(f"no user {name!r}")
            session.execute(delete(Login).where(Login.name == name))
            session.delete(member)
        self._write_down("crew_removed", {"name": name, "at": now()})

    def members(self) -> list[CrewMember]:
        with self._sessions() as session:
            return list(session.scalars(select(CrewMember).order_by(CrewMember.name)))

    def sign_in(self, name: str, password: str, *, address: str) -> str | None:
        """A new session token for the right name and password, else None (which of the two was wrong is not
        said). Raises :class:`Throttled` while ``address`` must wait, or the name must at an address it has not
        signed in from. Each try counts as a miss before the password is checked, so guesses sent in parallel
        count too; a right password clears the counts of its address and name (an office's typos add up to no
        wait once someone there signs in; a crew member guessing between sign-ins is still slowed per name)."""
        name, address = name[:100], address[:100]
        keys = (f"address {address}", f"name {name}")
        self._count_try(name, address, keys)
        with self._sessions() as session:
            member = session.get(CrewMember, name)
        try:
            _hasher.verify(member.password_hash if member else _DECOY, password)
        except (VerificationError, InvalidHashError):
            return None
        if member is None:
            return None
        token, at = secrets.token_urlsafe(32), self.throttle.clock()
        with self._sessions.begin() as session:
            session.execute(delete(SignInTries).where(SignInTries.key.in_(keys)))
            session.merge(SignInPlace(name=member.name, address=address, last_at=at))
            session.execute(delete(Login).where(Login.expires_at < now()))
            session.add(Login(token_hash=_digest(token), name=member.name,
                              expires_at=now() + timedelta(hours=SESSION_HOURS)))
        return token

    def _count_try(self, name: str, address: str, keys: tuple[str, str]) -> None:
        """Refuse the try while its address (or its name, away from the member's own addresses) must wait;
        else count it as a miss, in one write transaction so that workers do not race."""
        at = self.throttle.clock()
        with self._sessions.begin() as session:
            session.execute(delete(SignInTries).where(
                SignInTries.last_at < at - timedelta(seconds=self.throttle.forget), SignInTries.next_at < at))
            place = session.get(SignInPlace, (name, address))
            at_home = place is not None and place.last_at > at - timedelta(days=PLACE_DAYS)
            rows = [session.get(SignInTries, key) for key in keys]
            binding = rows[:1] if at_home else rows
            wait = max(((row.next_at - at).total_seconds() for row in binding if row is not None), default=0.0)
            if wait > 0:
                raise Throttled(math.ceil(wait))
            for key, row in zip(keys, rows, strict=True):
                if row is None:
                    row = SignInTries(key=key, misses=0)
                    session.add(row)
                row.misses += 1
                row.last_at = at
                row.next_at = at + timedelta(seconds=self.throttle.wait(row.misses))

    def member(self, token: str | None) -> Member | None:
        """Who holds this session cookie, if it is current."""
        if not token or len(token) > 100:
            return None
        with self._sessions() as session:
            login = session.get(Login, _digest(token))
            if login is None or login.expires_at < now():
                return None
            member = session.get(CrewMember, login.name)
            return Member(member.name, member.role, _csrf(token), member.language) if member else None

    def speak(self, name: str, language: str) -> None:
        """The language the app shows ``name`` from now on."""
        if language not in LANGUAGES:
            raise ProjectError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        with self._sessions.begin() as session:
            member = session.get(CrewMember, name)
            if member is None:
                raise ProjectError(f"no user {name!r}")
            member.language = language
            fields = row_fields(member)
        self._write_down("crew", fields)

    def sign_out(self, token: str | None) -> None:
        if token:
            with self._sessions.begin() as session:
                session.execute(delete(Login).where(Login.token_hash == _digest(token)))

    def _write_down(self, entry: str, fields: dict[str, object]) -> None:
        """Journal a change of the crew (the last ``crew`` line of a name is its state)."""
        if self._journal is not None:
            journal.append(self._journal, entry, **fields)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _csrf(token: str) -> str:
    """The session's CSRF token, derived from its cookie and never stored: only the cookie's holder can know it,
    and a copy of the database reveals it no more than the cookie."""
    return hmac.new(token.encode(), b"soundstage csrf", hashlib.sha256).hexdigest()
