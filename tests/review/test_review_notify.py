"""Notices from the review app, received for real: webhooks on a local HTTP receiver (plain JSON and Slack's
shape), e-mail on a local SMTP server (aiosmtpd), both on 127.0.0.1. A receiver that is down or failing never
holds up the approval; it is retried a few times, then logged as given up."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI

from conftest import Member, sign_in, take_ids
from soundstage.project import Project
from soundstage.records.settings import MailSettings, NotifySettings, Webhook
from soundstage.review import make_app
from soundstage.review.notify import Notifier, mentions
from test_cli import soundstage

aiosmtpd = pytest.importorskip("aiosmtpd.controller")
RAIN = "shot/2-1/element/rain"


class Receiver(ThreadingHTTPServer):
    """Records each POST by path; ``/flaky`` answers 500 to its first two."""

    def __init__(self) -> None:
        self.posts: dict[str, list[Any]] = {}
        self.tries: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.tries[self.path] = receiver.tries.get(self.path, 0) + 1
                if self.path == "/flaky" and receiver.tries[self.path] <= 2:
                    self.send_response(500)
                else:
                    receiver.posts.setdefault(self.path, []).append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((tuple(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[Receiver, Mailbox, int]]:
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    mailbox, port = Mailbox(), _free_port()
    smtp = aiosmtpd.Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    yield receiver, mailbox, port
    smtp.stop()
    receiver.shutdown()


@pytest.fixture(scope="module")
def noticed(film: Project, receivers: tuple[Receiver, Mailbox, int]) -> Iterator[tuple[FastAPI, Notifier]]:
    receiver, _, port = receivers
    dead = f"http://127.0.0.1:{_free_port()}/nobody"          # nothing listens there
    settings = NotifySettings(
        webhooks=(Webhook(url=receiver.url("/json")), Webhook(url=receiver.url("/slack"), format="slack"),
                  Webhook(url=receiver.url("/flaky"), events=("approved",)), Webhook(url=dead)),
        email=MailSettings(host="127.0.0.1", port=port, sender="review@tiny.film", to=("pat@tiny.film",),
                           people={"art": "art@tiny.film"}),
        tries=3, timeout=5)
    notifier = Notifier(settings, "Tiny", pause=0.01)
    app = make_app(film, notifier=notifier)
    yield app, notifier
    app.state.board.close()
    notifier.close()


def test_an_approval_is_sent_by_webhook_and_e_mail(noticed: tuple[FastAPI, Notifier], film: Project,
                                                   receivers: tuple[Receiver, Mailbox, int],
                                                   caplog: pytest.LogCaptureFixture) -> None:
    app, notifier = noticed
    receiver, mailbox, _ = receivers
    anna: Member = sign_in(app, "anna")
    caplog.set_level(logging.WARNING, logger="soundstage.review.notify")
    take = take_ids(film, RAIN)["v001"]
    answer = anna.post(f"/takes/{take}/approve", data={"csrf": anna.csrf, "shot": "2-1"})
    assert answer.status_code == 200, answer.text       # the dead receiver held nothing up
    notifier.drain(60)

    [sent] = receiver.posts["/json"]
    assert sent == {"event": "approved", "text": f"anna approved {RAIN} v001", "project": "Tiny", "by": "anna",
                    "shot": "2-1", "slot": RAIN, "take": "v001"}
    assert receiver.posts["/slack"] == [{"text": f"[Tiny] anna approved {RAIN} v001"}]
    assert receiver.tries["/flaky"] == 3 and len(receiver.posts["/flaky"]) == 1     # failed twice, then taken
    [(to, mail)] = mailbox.messages
    assert to == ("pat@tiny.film",) and mail["Subject"] == f"[Tiny] anna approved {RAIN} v001"
    assert mail["From"] == "review@tiny.film"
    dead = [r.getMessage() for r in caplog.records if "/nobody" in r.getMessage()]
    assert len(dead) == 3 and dead[-1].startswith("notice to webhook") and "failed 3 times, given up" in dead[-1]
    assert any("/flaky" in r.getMessage() and "try 2 of 3" in r.getMessage() for r in caplog.records)


def test_a_retake_and_a_mention_are_told(noticed: tuple[FastAPI, Notifier],
                                         receivers: tuple[Receiver, Mailbox, int]) -> None:
    app, notifier = noticed
    receiver, mailbox, _ = receivers
    before_json, before_mail = len(receiver.posts["/json"]), len(mailbox.messages)
    pat = sign_in(app, "pat")
    assert pat.post("/shots/2-1/status", data={"status": "retake", "csrf": pat.csrf}).status_code == 200
    assert pat.post("/shots/2-1/notes", data={"body": "@art thinner rain please, cc @nobody and x@y.z",
                                              "csrf": pat.csrf}).status_code == 200
    notifier.drain(60)
    told = receiver.posts["/json"][before_json:]
    assert [(n["event"], n["text"]) for n in told] == [
        ("retake", "pat sent shot 2-1 back for a retake"),
        ("mention", "pat mentioned @art on shot 2-1: @art thinner rain please, cc @nobody and x@y.z")]
    assert told[1]["mentioned"] == ["art"]
    mails = mailbox.messages[before_mail:]
    assert [to for to, _ in mails] == [("pat@tiny.film",), ("art@tiny.film",)]


def test_mentions_are_names_not_addresses() -> None:
    assert mentions("@anna and @art. see x@y.z, @anna again") == ("anna", "art")


def test_the_command_line_tells_what_the_app_tells(film: Project, receivers: tuple[Receiver, Mailbox, int]) -> None:
    """`soundstage approve`, `status` and `note` with an @mention send the app's notices, as [review.notify] in
    soundstage.toml says; a receiver that is down is tried, logged as given up, and the action stands."""
    receiver, mailbox, port = receivers
    settings = film.settings_path
    kept = settings.read_text("utf-8")
    dead = f"http://127.0.0.1:{_free_port()}/nobody"
    settings.write_text(kept + f"""
[review.notify]
tries = 2
[[review.notify.webhooks]]
url = "{receiver.url('/cli')}"
[[review.notify.webhooks]]
url = "{receiver.url('/cli-slack')}"
format = "slack"
[[review.notify.webhooks]]
url = "{dead}"
[review.notify.email]
host = "127.0.0.1"
port = {port}
sender = "review@tiny.film"
to = ["pat@tiny.film"]
people = {{ art = "art@tiny.film" }}
""", "utf-8")
    before_mail = len(mailbox.messages)
    try:
        approved = soundstage("approve", film.root, RAIN, "v001", "--by", "pat")
        assert approved.returncode == 0, approved.stderr
        assert f"approved {RAIN} v001" in approved.stdout
        assert "failed 2 times, given up" in approved.stderr.splitlines()[-1] and "/nobody" in approved.stderr
        retake = soundstage("status", film.root, "2-1", "retake", "--by", "pat")
        assert retake.returncode == 0 and "shot 2-1 is retake" in retake.stdout, retake.stderr
        noted = soundstage("note", film.root, "2-1", "@art softer edge, @nobody", "--by", "pat", "--frame", "3")
        assert noted.returncode == 0, noted.stderr
        refused = soundstage("status", film.root, "2-1", "done", "--by", "pat")
        assert refused.returncode != 0 and "'done' is not a status" in refused.stderr
    finally:
        settings.write_text(kept, "utf-8")
    assert receiver.posts["/cli"] == [                  # the shapes the app sends (see the tests above)
        {"event": "approved", "text": f"pat approved {RAIN} v001", "project": "Tiny", "by": "pat", "shot": "2-1",
         "slot": RAIN, "take": "v001"},
        {"event": "retake", "text": "pat sent shot 2-1 back for a retake", "project": "Tiny", "shot": "2-1",
         "by": "pat", "status": "retake"},
        {"event": "mention", "text": "pat mentioned @art on shot 2-1: @art softer edge, @nobody", "project": "Tiny",
         "shot": "2-1", "note": receiver.posts["/cli"][2]["note"], "by": "pat", "mentioned": ["art"]}]
    assert [post["text"] for post in receiver.posts["/cli-slack"]] == [
        f"[Tiny] pat approved {RAIN} v001", "[Tiny] pat sent shot 2-1 back for a retake",
        "[Tiny] pat mentioned @art on shot 2-1: @art softer edge, @nobody"]
    mails = mailbox.messages[before_mail:]
    assert [(to, mail["Subject"]) for to, mail in mails] == [
        (("pat@tiny.film",), f"[Tiny] pat approved {RAIN} v001"),
        (("pat@tiny.film",), "[Tiny] pat sent shot 2-1 back for a retake"),
        (("art@tiny.film",), "[Tiny] pat mentioned @art on shot 2-1: @art softer edge, @nobody")]


def test_generate_tells_of_each_take_it_makes(film: Project, receivers: tuple[Receiver, Mailbox, int]) -> None:
    """`soundstage generate` tells "take" receivers of each take it makes, as the app's jobs do; a take found in
    the store is not news and is not told."""
    receiver, _, _ = receivers
    settings = film.settings_path
    kept = settings.read_text("utf-8")
    settings.write_text(kept + f"""
[review.notify]
tries = 2
[[review.notify.webhooks]]
url = "{receiver.url('/made')}"
events = ["take"]
""", "utf-8")
    try:
        made = soundstage("generate", film.root, "--shot", "2-1", "--seed", "77", "--json")
        assert made.returncode == 0, made.stderr
        again = soundstage("generate", film.root, "--shot", "2-1", "--seed", "77", "--json")
        assert again.returncode == 0, again.stderr
    finally:
        settings.write_text(kept, "utf-8")
    rows = [row for row in json.loads(made.stdout)["takes"] if row["status"] == "made"]
    assert rows and all(row["status"] == "in store" for row in json.loads(again.stdout)["takes"])
    told = receiver.posts["/made"]
    assert sorted((n["event"], n["slot"], n["take"]) for n in told) == sorted(
        ("take", row["slot"], row["take"]) for row in rows)
    rain = next(n for n in told if n["slot"] == RAIN)
    assert rain["text"] == f"someone made {RAIN} {rain['take']} for shot 2-1" and rain["shot"] == "2-1"


def test_a_korean_crew_is_told_in_korean(receivers: tuple[Receiver, Mailbox, int]) -> None:
    """`[review.notify] language = "ko"`: every notice's line is read from the review words in Korean, the same
    fields beside it; English stays the default."""
    receiver, _, _ = receivers
    settings = NotifySettings(webhooks=(Webhook(url=receiver.url("/ko")),), language="ko")
    notifier = Notifier(settings, "달빛 한옥", pause=0.01)
    try:
        notifier.take_ready("민지", RAIN, "v002", shot="2-1")
        notifier.approved("", RAIN, "v002", shot="2-1")
        notifier.status("민지", "2-1", "retake")
        notifier.mention("민지", "2-1", "@art 비를 가늘게", 7, ["art"])
        notifier.drain(60)
    finally:
        notifier.close()
    told = {post["text"]: post for post in receiver.posts["/ko"]}     # sent two at a time: in any order
    assert sorted(told) == sorted([
        f"새 테이크: 샷 2-1 {RAIN} v002 · 민지",
        f"승인: {RAIN} v002 · 누군가",
        "재작업 요청: 샷 2-1 · 민지",
        "@art 언급: 샷 2-1 · 민지 — @art 비를 가늘게"])
    made = told[f"새 테이크: 샷 2-1 {RAIN} v002 · 민지"]
    assert made["slot"] == RAIN and made["event"] == "take" and made["project"] == "달빛 한옥"
    assert NotifySettings().language == "en"
