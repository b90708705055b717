"""Notices from the review app: a take is ready, a shot approved or sent back for a retake, someone @mentioned in
a note. Sent to webhooks (plain JSON, or Slack's ``{"text": …}``) and by e-mail over SMTP, as ``[review.notify]``
says.

Never in the way: each notice goes out on a background thread after the action is done, so a receiver that is
slow or down never holds up an approval. A failed attempt is logged and tried again, a second later and then
twice as long each time, ``tries`` times in all; then it is logged as given up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import smtplib
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from soundstage.db import CrewMember
from soundstage.records.settings import MailSettings, NotifySettings, Webhook
from soundstage.words import words_of

log = logging.getLogger("soundstage.review.notify")
MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9][A-Za-z0-9._-]{0,99})")


@dataclass(frozen=True)
class Notice:
    """One thing that happened, as every receiver is told it."""

    event: str                        # take, approved, retake, mention
    text: str                         # one line a person reads
    project: str
    fields: dict[str, Any] = field(default_factory=dict)
    mentioned: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"event": self.event, "text": self.text, "project": self.project, **self.fields,
                **({"mentioned": list(self.mentioned)} if self.mentioned else {})}


def mentions(body: str) -> tuple[str, ...]:
    """The names a note @mentions, once each, in order (``@anna``; an e-mail address is not a mention)."""
    return tuple(dict.fromkeys(name.rstrip(".") for name in MENTION.findall(body)))


class Notifier:
    """Sends each notice to the receivers that want it, in the background. ``pause``: seconds before the first
    retry (doubling after)."""

    def __init__(self, settings: NotifySettings, project: str, *, pause: float = 1.0) -> None:
        self.settings, self.project, self.pause = settings, project, pause
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="soundstage-notify")
        self._pending: set[Future[bool]] = set()
        self._lock = threading.Lock()

    def tell(self, event: str, text: str, *, mentioned: tuple[str, ...] = (), **fields: Any) -> None:
        """Queue ``event`` for every receiver that wants it; returns at once."""
        notice = Notice(event, text, self.project, fields, mentioned)
        for hook in self.settings.webhooks:
            if event in hook.events:
                self._submit(f"webhook {hook.url}", partial(_post, hook, notice, self.settings.timeout))
        mail = self.settings.email
        if mail is not None and event in mail.events:
            to = tuple(mail.people[name] for name in mentioned if name in mail.people) if event == "mention" \
                else mail.to
            if to:
                self._submit(f"e-mail to {', '.join(to)}", lambda: _mail(mail, notice, to, self.settings.timeout))

    def take_ready(self, by: str, slot: str, take: str, shot: str | None = None) -> None:
        """A new take (v003) of ``slot``, made by a job of the app or by ``soundstage generate``."""
        said = self._said("notice take for shot" if shot else "notice take", by, slot=slot, take=take, shot=shot)
        self.tell("take", said, shot=shot, slot=slot, take=take, by=by)

    def approved(self, by: str, slot: str, take: str, shot: str | None = None) -> None:
        """``by`` approved ``take`` (v002) of ``slot``, from the app or the command line."""
        self.tell("approved", self._said("notice approved", by, slot=slot, take=take), by=by, shot=shot, slot=slot,
                  take=take)

    def status(self, by: str, shot: str, status: str) -> None:
        """A shot's new status; told only when it is approved or sent back for a retake."""
        if status in ("retake", "approved"):
            said = self._said("notice retake" if status == "retake" else "notice approved shot", by, shot=shot)
            self.tell(status, said, shot=shot, by=by, status=status)

    def mention(self, by: str, subject: str, body: str, note: int, crew: Iterable[str]) -> tuple[str, ...]:
        """Tell the crew members a note @mentions (names not on the ``crew`` are not told); returns them.
        ``subject`` is the shot's id (2-1) or, for a note on a set, its slot."""
        known = set(crew)
        named = tuple(name for name in mentions(body) if name in known)
        if named:
            where = subject if "/" in subject else self._said("notice on shot", by, shot=subject)
            self.tell("mention", self._said("notice mention", by, names=", ".join("@" + n for n in named),
                                            where=where, body=body),
                      mentioned=named, shot=subject if "/" not in subject else None, note=note, by=by)
        return named

    def _said(self, name: str, by: str, **fields: Any) -> str:
        """The notice's line in ``[review.notify] language``, from the review words."""
        words, language = words_of("review"), self.settings.language
        return words.text(name, language).format(by=by or words.text("someone", language), **fields)

    def drain(self, timeout: float | None = None) -> None:
        """Wait for the notices still on their way (tests; a server shutting down)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=False)

    def _submit(self, receiver: str, send: Callable[[], None]) -> None:
        future = self._pool.submit(self._deliver, receiver, send)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[bool]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _deliver(self, receiver: str, send: Callable[[], None]) -> bool:
        tries = self.settings.tries
        for attempt in range(1, tries + 1):
            try:
                send()
                return True
            except Exception as exc:
                if attempt == tries:
                    log.error("notice to %s failed %d times, given up: %s", receiver, tries, exc)
                    return False
                log.warning("notice to %s failed (try %d of %d): %s", receiver, attempt, tries, exc)
                time.sleep(self.pause * 2 ** (attempt - 1))
        return False


def crew_names(sessions: sessionmaker[Session]) -> list[str]:
    """Who is on the crew, by sign-in name: the names a note's @mentions may reach."""
    with sessions() as session:
        return list(session.scalars(select(CrewMember.name)))


@contextlib.contextmanager
def told(settings: NotifySettings, project: str) -> Iterator[Notifier]:
    """A notifier for one command-line action. Its notices go out only once the action is done (an action that
    fails tells nobody); the command then waits for them, each tried and logged as ``settings`` say, before it
    ends: a process that exits at once would take its notices with it."""
    notifier = Notifier(settings, project)
    try:
        yield notifier
        notifier.drain()
    finally:
        notifier.close()


def _post(hook: Webhook, notice: Notice, timeout: float) -> None:
    body = {"text": f"[{notice.project}] {notice.text}"} if hook.format == "slack" else notice.as_json()
    request = urllib.request.Request(hook.url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "soundstage"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        if not 200 <= answer.status < 300:
            raise OSError(f"HTTP {answer.status}")


def _mail(settings: MailSettings, notice: Notice, to: tuple[str, ...], timeout: float) -> None:
    message = EmailMessage()
    message["From"], message["To"] = settings.sender, ", ".join(to)
    message["Subject"] = f"[{notice.project}] {notice.text}"
    message.set_content(notice.text + "\n\n" + "\n".join(f"{k}: {v}" for k, v in notice.as_json().items()
                                                         if k not in ("text", "project")))
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, os.environ.get("SOUNDSTAGE_SMTP_PASSWORD", ""))
        smtp.send_message(message)


__all__ = ["Notice", "Notifier", "crew_names", "mentions", "told"]
