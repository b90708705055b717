"""A stand-in for a generation service: a real HTTP server on 127.0.0.1 that a test scripts route by route.

The engines under test talk to it through their real client code (google-genai, openai, httpx), so what is
tested is the wire format: paths, headers, bodies, status codes and the errors each service really returns.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str                       # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]         # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[tuple[str | None, bytes]]]:
        """A multipart/form-data body: field name → [(file name or None, bytes)], in order."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=default_policy).parsebytes(head + self.body)
        fields: dict[str, list[tuple[str | None, bytes]]] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            fields.setdefault(name, []).append((part.get_filename(), payload if isinstance(payload, bytes) else b""))
        return fields


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict | list | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0              # seconds to wait before answering (for timeouts)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body).encode(), "application/json"


Handler = Callable[[Request], Reply]


class StandIn:
    """Routes are tried newest first; a route given a list of replies plays them in order, then repeats the last."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.Lock()
        stand_in = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                reply = stand_in._answer(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body, content_type = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        if name.lower() != "content-type":
                            self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):   # the client gave up (a timeout test)
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: object) -> None:   # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits up to one interval, and every test shuts a server down.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, reply: Handler | Reply | list[Reply]) -> None:
        """Answer ``method`` on paths fully matching the regex ``path``."""
        if isinstance(reply, Reply):
            handler: Handler = lambda _request, r=reply: r   # noqa: E731
        elif isinstance(reply, list):
            queue = list(reply)

            def handler(_request: Request) -> Reply:
                return queue.pop(0) if len(queue) > 1 else queue[0]
        else:
            handler = reply
        with self._lock:
            self._routes.insert(0, (method.upper(), re.compile(path), handler))

    def calls(self, method: str, path: str) -> list[Request]:
        pattern = re.compile(path)
        return [r for r in self.requests if r.method == method.upper() and pattern.fullmatch(r.path)]

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            routes = list(self._routes)
        for method, pattern, handler in routes:
            if method == request.method and pattern.fullmatch(request.path):
                return handler(request)
        return Reply(404, {"error": {"code": 404, "message": f"no stand-in route for {request.method} "
                                                             f"{request.path}", "status": "NOT_FOUND"}})

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
