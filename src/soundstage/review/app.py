"""The review app: the crew looks at takes, compares them, approves one, asks for another and watches the cut.

Pages are rendered on the server (Jinja2) with a little plain JavaScript for the wipe and live progress.
Every action goes through the services the CLI uses (the take store, ``Generation``, ``render_project``,
``verify_file``), on the project's own database, so the CLI and the app see the same truth.

Security: sessions are random cookies (HttpOnly, SameSite=Lax) whose hashes live in the database; every
POST carries the session's CSRF token (a form field or the ``X-CSRF-Token`` header); files are served only
from the project's output, plate, reference and take folders, resolved and checked to stay inside; request
bodies are capped before they are read.
"""


import asyncio
import contextlib
import gc
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.types import ASGIApp, Receive, Scope, Send

from soundstage.db import open_database
from soundstage.errors import MediaError, ProjectError, SoundstageError
from soundstage.media import STILL_SUFFIXES
from soundstage.pipeline.ledger import Ledger
from soundstage.project import Project
from soundstage.records import shot_subject
from soundstage.records.shot import read_shot_record
from soundstage.reports.page import translator
from soundstage.review.auth import ROLES, Crew, Member, Throttle, Throttled, same_token
from soundstage.review.dailies import Dailies, ShotView
from soundstage.review.jobs import Busy, JobBoard
from soundstage.review.notes import note_frame, read_drawing, shot_clocks, write_note
from soundstage.review.notify import Notifier
from soundstage.review.plates import Mismatch, NotAPlate, TooLarge, replace_plate
from soundstage.review.playlists import Playlists, playlist_otio
from soundstage.review.statuses import action_for, checked_status, status_names
from soundstage.review.thumbs import STRIP_CELLS, sequence_thumbnail, strip, thumbnail
from soundstage.words import LANGUAGES, words_of

SESSION_COOKIE = "soundstage_session"
LOGIN_COOKIE = "soundstage_login"         # the signed-out browser's CSRF token, for the sign-in form
PLATE_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", *sorted(STILL_SUFFIXES))
FORM_LIMIT = 256 * 1024                    # a note or a prompt; only plate uploads are larger
MAX_ID = 2**31 - 1
SAID = {"approved": "Approved. The next render uses this take.", "noted": "Note added.",
        "status": "Status changed.",
        "plate": "Plate replaced (the old one is kept in plates/previous/). Render the shot to use it.",
        "plate-conformed": "Plate replaced (the old one is kept in plates/previous/). Its size or rate is not the "
                           "project's: renders conform it as [plates] says. Render the shot to use it.",
        "queued": "Job queued."}
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
FILE_POLICY = "sandbox allow-scripts allow-popups; default-src 'self' 'unsafe-inline' data:"

STATIC = Path(__file__).parent / "static"      # shipped as package data beside this file
TakeId = Annotated[int, PathParam(ge=1, le=MAX_ID, examples=[1])]
JobId = Annotated[int, PathParam(ge=1, le=MAX_ID, examples=[1])]
ShotId = Annotated[str, PathParam(max_length=200, examples=["2-1"])]


class SignInNeeded(Exception):
    """No current session: pages send the browser to the sign-in form, the API answers 401."""


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def settle() -> None:
    """Once the app is made, before it serves: its imports and set-up (~235,000 objects) are moved out of the
    cyclic collector's sight (``gc.freeze``). They live as long as the server, yet each full collection walked
    them all: one film page in four took ~230 ms instead of ~65 (500 shots). Freed by reference count as ever."""
    gc.collect()
    gc.freeze()


def make_app(project: Project, *, max_upload_mb: float = 512.0, secure_cookies: bool = False,
             throttle: Throttle | None = None, notifier: Notifier | None = None) -> FastAPI:
    """The app for one project. ``max_upload_mb`` caps a plate upload; ``secure_cookies`` for HTTPS;
    ``throttle`` says how wrong passwords slow the next try; ``notifier`` sends its notices (by default as
    ``[review.notify]`` says)."""
    sessions = open_database(project.database)
    dailies = Dailies(project, sessions)
    crew = Crew(sessions, throttle=throttle)
    board = JobBoard(project, sessions)
    playlists = Playlists(project, sessions)
    notifier = notifier or Notifier(project.settings.review.notify, project.settings.title)
    board.take_ready = lambda job, take: notifier.take_ready(job.by, take.slot, take.label, shot=job.shot)
    upload_limit = int(max_upload_mb * 1024 * 1024)
    cache = project.state_dir / "review" / "thumbs"
    templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
    money = _money(project.settings.budget)
    templates.env.globals.update(roles=ROLES, show_money=money, word=_word, title=project.settings.title,
                                 first_frame=project.settings.review.first_frame, languages=LANGUAGES,
                                 strip_cells=STRIP_CELLS)
    templates.env.filters["when"] = _when
    words = words_of("review")
    statuses = {language: status_names(project, language) for language in LANGUAGES}
    templates.env.filters["pct"] = lambda share: f"{100 * float(share):.0f}%"
    templates.env.filters["url"] = lambda text: quote(str(text), safe="/")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        board.close()
        notifier.close()

    # The API's description is for the signed-in only (/openapi.json, below); the /docs and /redoc pages are
    # not served: they load their scripts from a CDN, which the page policy (and an offline studio) refuses.
    app = FastAPI(title=f"soundstage review: {project.settings.title}", version="1", lifespan=lifespan,
                  description="Browse, compare, approve and regenerate the takes of a soundstage project.",
                  openapi_url=None, docs_url=None, redoc_url=None)
    app.state.project, app.state.board, app.state.crew, app.state.notifier = project, board, crew, notifier
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(_BodyLimit, limit=FORM_LIMIT, uploads=upload_limit + 64 * 1024)

    @app.middleware("http")
    async def policy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    FILE_POLICY if request.url.path.startswith("/files/") else PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    # ------------------------------------------------------------------------------------------ answers

    def wants_html(request: Request) -> bool:
        return "text/html" in request.headers.get("accept", "")

    def page(request: Request, template: str, member: Member | None, status: int = 200,
             **context: Any) -> HTMLResponse:
        said = SAID.get(request.query_params.get("said", ""))
        language = member.language if member else _spoken(request)
        return templates.TemplateResponse(request, template, {
            "member": member, "said": said, "t": translator(language, words), "language": language,
            "statuses": statuses[language], **context}, status_code=status)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, _exc: SignInNeeded) -> Response:
        if request.method == "GET" and wants_html(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if wants_html(request):
            answer: Response = page(request, "refused.html", _member_or_none(request), status=exc.status,
                                    message=exc.message)
        else:
            answer = JSONResponse({"detail": exc.message}, status_code=exc.status)
        answer.headers.update(exc.headers or {})
        return answer

    @app.exception_handler(SoundstageError)
    async def soundstage_error(request: Request, exc: SoundstageError) -> Response:
        return await refused(request, Refused(400, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if wants_html(request):
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())[1:])
            return await refused(request, Refused(422, f"{where}: {first.get('msg', 'not valid')}"))
        return JSONResponse({"detail": json.loads(json.dumps(exc.errors(), default=str))}, status_code=422)

    # ------------------------------------------------------------------------------------------ who

    def _member_or_none(request: Request) -> Member | None:
        return crew.member(request.cookies.get(SESSION_COOKIE))

    def signed_in(request: Request) -> Member:
        member = _member_or_none(request)
        if member is None:
            raise SignInNeeded()
        return member

    def may(action: str) -> Callable[..., Awaitable[Member]]:
        async def check(request: Request, member: Annotated[Member, Depends(signed_in)]) -> Member:
            if action != "read" and not member.may(action):
                raise Refused(403, f"a {member.role} may not {action}; ask a "
                                   f"{' or '.join(r for r, can in ROLES.items() if action in can)}")
            token = request.headers.get("x-csrf-token")
            if not same_token(token, member.csrf):
                field = (await request.form()).get("csrf")
                if not same_token(field if isinstance(field, str) else None, member.csrf):
                    raise Refused(403, "this form has no valid CSRF token (stale or forged): reload the page")
            return member

        return check

    Reader = Annotated[Member, Depends(signed_in)]

    # ------------------------------------------------------------------------------------------ signing in

    @app.get("/login", response_class=HTMLResponse, tags=["people"])
    def login_form(request: Request, next: str = "/") -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        response = page(request, "login.html", None, login_csrf=token, next=_local(next))
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies)
        return response

    @app.post("/login", tags=["people"])
    def login(request: Request, name: Annotated[str, Form(max_length=100)],
              password: Annotated[str, Form(max_length=1024)], csrf: Annotated[str, Form(max_length=200)] = "",
              next: Annotated[str, Form(max_length=500)] = "/") -> Response:
        if not same_token(csrf, request.cookies.get(LOGIN_COOKIE) or ""):
            raise Refused(403, "the sign-in form has no valid CSRF token: reload it and try again")
        try:
            token = crew.sign_in(name, password, address=request.client.host if request.client else "")
        except Throttled as exc:
            raise Refused(429, exc.message, {"Retry-After": str(exc.seconds)}) from None
        if token is None:
            if wants_html(request):
                return page(request, "login.html", None, status=401, login_csrf=csrf, next=_local(next),
                            typed=name, error="Wrong name or password.")
            return JSONResponse({"detail": "wrong name or password"}, status_code=401)
        response = RedirectResponse(_local(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies,
                            max_age=12 * 3600)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout", tags=["people"])
    def logout(request: Request, member: Annotated[Member, Depends(may("read"))]) -> Response:
        crew.sign_out(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.post("/me/language", tags=["people"])
    def change_language(request: Request, member: Annotated[Member, Depends(may("read"))],
                        language: Annotated[str, Form(max_length=5)],
                        next: Annotated[str, Form(max_length=500)] = "/") -> Response:
        """The words the app shows this crew member from now on: en or ko."""
        crew.speak(member.name, language)
        if wants_html(request):
            return RedirectResponse(_local(next), status_code=303)
        return JSONResponse({"done": "language", "language": language})

    @app.get("/openapi.json", include_in_schema=False)
    def api_description(member: Reader) -> dict[str, Any]:
        return app.openapi()

    @app.get("/api/me", tags=["people"])
    def me(member: Reader) -> dict[str, Any]:
        return {"name": member.name, "role": member.role, "may": sorted(ROLES[member.role]), "csrf": member.csrf,
                "language": member.language}

    # ------------------------------------------------------------------------------------------ pages

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    def film_page(request: Request, member: Reader,
                  job: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
        spent, limit = dailies.spent()
        cut, cut_record = dailies.cut()
        return page(request, "film.html", member, scenes=dailies.film(), spent=spent, limit=limit, cut=cut,
                    cut_record=cut_record, jobs=board.recent(5), job=board.get(job) if job else None)

    @app.get("/shots/{shot_id}", response_class=HTMLResponse, tags=["pages"])
    def shot_page(request: Request, shot_id: ShotId, member: Reader,
                  job: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> Response:
        view = _shot(shot_id)
        following = board.get(job) if job else None
        clock = shot_clocks(project, dailies.breakdown())[shot_id]
        return page(request, "shot.html", member, view=view, job=following, clock=clock)

    @app.get("/compare", response_class=HTMLResponse, tags=["pages"])
    def compare_page(request: Request, member: Reader, a: Annotated[int, Query(ge=1, le=MAX_ID)],
                     b: Annotated[int, Query(ge=1, le=MAX_ID)], mode: str = "side",
                     shot: str = "") -> Response:
        left, right = _take(a), _take(b)
        back = shot if shot in {s.id for s in dailies.breakdown().shots} else None
        return page(request, "compare.html", member, a=left, b=right, mode="wipe" if mode == "wipe" else "side",
                    shot=back)

    @app.get("/cut", response_class=HTMLResponse, tags=["pages"])
    def cut_page(request: Request, member: Reader) -> Response:
        cut, record = dailies.cut()
        breakdown = dailies.breakdown()
        clocks = shot_clocks(project, breakdown)
        # (shot, seconds into the cut for the player, the record timecode the editor sees there)
        starts = [(shot, clocks[shot.id].start / project.settings.fps, clocks[shot.id].timecode(0))
                  for shot in breakdown.shots]
        return page(request, "cut.html", member, cut=cut, record=record, starts=starts)

    @app.get("/reports", response_class=HTMLResponse, tags=["pages"])
    def reports_page(request: Request, member: Reader) -> Response:
        spent, limit = dailies.spent()
        runs = Ledger(sessions, project.root).jobs(15)
        return page(request, "reports.html", member, reports=dailies.reports(), runs=runs, spent=spent,
                    limit=limit, jobs=board.recent(20))

    @app.get("/provenance", response_class=HTMLResponse, tags=["pages"])
    def provenance_page(request: Request, member: Reader,
                        path: Annotated[str, Query(max_length=1000)] = "out/cut.mp4") -> Response:
        from soundstage.provenance import verify_file
        from soundstage.provenance.keys import ROOT_FILE, keys_dir

        files = dailies.outputs()
        verdict, record, problem = None, None, None
        try:
            target = dailies.served(path)
        except ProjectError as exc:
            problem = f"{path}: {exc.message}"
        else:
            root = keys_dir(project.root) / ROOT_FILE
            try:
                verdict = verify_file(target, trust=root if root.is_file() else None)
            except SoundstageError as exc:
                problem = exc.message
            parts = Path(path).parts
            if len(parts) == 3 and parts[:2] == ("out", "shots") and Path(path).suffix == ".mp4":
                record = read_shot_record(project, Path(path).stem)
        return page(request, "provenance.html", member, files=files, path=path, verdict=verdict, record=record,
                    problem=problem, status=200 if problem is None else 404)

    # ------------------------------------------------------------------------------------------ playlists

    PlaylistId = Annotated[int, PathParam(ge=1, le=MAX_ID)]

    @app.get("/playlists", response_class=HTMLResponse, tags=["pages"])
    def playlists_page(request: Request, member: Reader) -> Response:
        return page(request, "playlists.html", member, playlists=playlists.all(), playlist=None)

    @app.get("/playlists/{playlist_id}.otio", tags=["files"])
    def playlist_timeline(playlist_id: PlaylistId, member: Reader) -> Response:
        """The playlist for the editor: its shots in order, each note a marker."""
        _playlist(playlist_id)
        return Response(playlist_otio(playlists, playlist_id), media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="playlist-{playlist_id}.otio"'})

    @app.get("/playlists/{playlist_id}", response_class=HTMLResponse, tags=["pages"])
    def playlist_page(request: Request, playlist_id: PlaylistId, member: Reader) -> Response:
        view = _playlist(playlist_id)
        return page(request, "playlists.html", member, playlists=playlists.all(), playlist=view,
                    since={item.id: playlists.rendered_since(item) for item in view.items},
                    shots=[s.id for s in dailies.breakdown().shots])

    @app.post("/playlists", tags=["actions"])
    def make_playlist(request: Request, member: Annotated[Member, Depends(may("note"))],
                      name: Annotated[str, Form(max_length=200)]) -> Response:
        made = playlists.make(name, member.name)
        if wants_html(request):
            return RedirectResponse(f"/playlists/{made.id}", status_code=303)
        return JSONResponse({"done": "playlist", "playlist": made.id})

    @app.post("/playlists/{playlist_id}/items", tags=["actions"])
    def add_to_playlist(request: Request, playlist_id: PlaylistId, member: Annotated[Member, Depends(may("note"))],
                        shot: Annotated[str, Form(max_length=200)],
                        note: Annotated[str, Form(max_length=4000)] = "") -> Response:
        """The shot as rendered now, at the end of the playlist."""
        _playlist(playlist_id)
        _shot(shot)
        item = playlists.add(playlist_id, shot, member.name, note)
        if wants_html(request):
            return RedirectResponse(f"/playlists/{playlist_id}", status_code=303)
        return JSONResponse({"done": "added", "item": item.id, "position": item.position})

    @app.post("/playlists/{playlist_id}/items/{item_id}/note", tags=["actions"])
    def note_playlist_item(request: Request, playlist_id: PlaylistId, item_id: PlaylistId,
                           member: Annotated[Member, Depends(may("note"))],
                           note: Annotated[str, Form(max_length=4000)]) -> Response:
        _playlist(playlist_id)
        try:
            playlists.note(playlist_id, item_id, note)
        except ProjectError as exc:
            raise Refused(404, exc.message) from None
        if wants_html(request):
            return RedirectResponse(f"/playlists/{playlist_id}", status_code=303)
        return JSONResponse({"done": "noted", "item": item_id})

    def _playlist(playlist_id: int) -> Any:
        try:
            return playlists.get(playlist_id)
        except ProjectError as exc:
            raise Refused(404, exc.message) from None

    # ------------------------------------------------------------------------------------------ files

    @app.get("/files/{path:path}", tags=["files"])
    def project_file(path: Annotated[str, PathParam(examples=["out/cut.mp4"])], member: Reader) -> Response:
        """A file of the project's out/, plates/, refs/ or takes; movies answer HTTP range requests."""
        try:
            target = dailies.served(path)
        except ProjectError:
            raise Refused(404, "no such file here") from None
        return FileResponse(target)

    @app.get("/thumbs/shots/{shot_id}.jpg", tags=["files"])
    def shot_thumb(shot_id: ShotId, member: Reader) -> Response:
        if shot_id not in {s.id for s in dailies.breakdown().shots}:
            raise Refused(404, f"no shot {shot_id!r}")
        movie = project.out_dir / "shots" / f"{shot_id}.mp4"
        if not movie.is_file():
            return FileResponse(STATIC / "unrendered.svg")
        return _thumb(movie)

    @app.get("/thumbs/takes/{take_id}.jpg", tags=["files"])
    def take_thumb(take_id: TakeId, member: Reader) -> Response:
        """A take's still: a frame sequence by its frame of peak alpha coverage."""
        view = _take(take_id)
        files = [project.root / f for f in view.files]
        return _thumb(lambda: sequence_thumbnail(files, cache) if len(files) > 1 else thumbnail(files[0], cache))

    @app.get("/thumbs/takes/{take_id}/strip.jpg", tags=["files"])
    def take_strip(take_id: TakeId, member: Reader) -> Response:
        """A frame sequence's hover-scrub strip: a few frames side by side."""
        view = _take(take_id)
        return _thumb(lambda: strip([project.root / f for f in view.files], cache))

    def _thumb(source: Path | Callable[[], Path]) -> Response:
        try:
            made = source() if callable(source) else thumbnail(source, cache)
            return FileResponse(made, headers={"Cache-Control": "private, max-age=300"})
        except (MediaError, OSError):
            return FileResponse(STATIC / "unrendered.svg")

    # ------------------------------------------------------------------------------------------ the API

    @app.get("/api/film", tags=["api"])
    def film_api(member: Reader) -> dict[str, Any]:
        spent, limit = dailies.spent()
        return {"title": project.settings.title, "spent": spent, "budget": limit,
                "currency": project.settings.budget.currency,
                "scenes": [{"id": s.id, "heading": s.heading, "shots": [_shot_summary(v) for v in s.shots]}
                           for s in dailies.film()]}

    @app.get("/api/shots/{shot_id}", tags=["api"])
    def shot_api(shot_id: ShotId, member: Reader) -> dict[str, Any]:
        view = _shot(shot_id)
        clocks = shot_clocks(project, dailies.breakdown())
        clock = clocks[shot_id]
        history = dailies.generation().store.history(shot_subject(shot_id))
        return _shot_summary(view) | {"notes": [_note(n, clocks) for n in view.notes], "clock": {
            "first_frame": clock.number(0), "frames": clock.frames, "fps": float(clock.rate),
            "start": clock.timecode(0), "drop_frame": ";" in clock.timecode(0)}, "history": [
            {"subject": e.subject, "kind": e.kind, "status": e.status, "take_id": e.take_id, "version": e.version,
             "by": e.by, "at": e.at.isoformat(timespec="seconds")} for e in history], "slots": [
            {"slot": s.slot, "role": s.role, "prompt": s.prompt, "engine": s.engine,
             "takes": [_take_summary(t) for t in s.takes]} for s in view.slots]}

    @app.get("/api/takes/{take_id}", tags=["api"])
    def take_api(take_id: TakeId, member: Reader) -> dict[str, Any]:
        return _take_summary(_take(take_id))

    @app.get("/api/jobs/{job_id}", tags=["api"])
    def job_api(job_id: JobId, member: Reader) -> dict[str, Any]:
        job = board.get(job_id)
        if job is None:
            raise Refused(404, f"no job {job_id}")
        return job.to_dict() | {"log": job.events[-20:]}

    @app.get("/jobs/{job_id}/events", tags=["api"])
    async def job_events(request: Request, job_id: JobId, member: Reader) -> Response:
        """The job's progress as server-sent events: ``progress`` events, then one ``end``."""
        job = board.get(job_id)
        if job is None:
            raise Refused(404, f"no job {job_id}")

        async def stream() -> Any:
            sent = 0
            while True:
                while sent < len(job.events):
                    yield f"event: progress\ndata: {json.dumps(job.events[sent], default=str)}\n\n"
                    sent += 1
                if job.finished:
                    yield f"event: end\ndata: {json.dumps(job.to_dict())}\n\n"
                    return
                if await request.is_disconnected():
                    return
                await asyncio.sleep(0.1)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # ------------------------------------------------------------------------------------------ actions

    @app.post("/takes/{take_id}/approve", tags=["actions"])
    def approve(request: Request, take_id: TakeId, member: Annotated[Member, Depends(may("approve"))],
                shot: Annotated[str, Form(max_length=200)] = "") -> Response:
        """Approve a take of its slot, as this crew member, now: renders use it from then on."""
        view = _take(take_id)
        store = dailies.generation().store
        store.approve(view.take.slot, view.take.version, by=member.name)
        notifier.approved(member.name, view.take.slot, view.take.label, shot=shot or None)
        return _done(request, shot, "approved", {"approved": view.take.label, "slot": view.take.slot})

    @app.post("/shots/{shot_id}/notes", tags=["actions"])
    def add_note(request: Request, shot_id: ShotId, member: Annotated[Member, Depends(may("note"))],
                 body: Annotated[str, Form(max_length=4000)],
                 take: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
                 frame: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
                 drawing: Annotated[str, Form(max_length=200_000)] = "") -> Response:
        """A note on the shot, or with ``take`` on one of its takes; on a ``frame`` (numbered as the players
        show it), with a ``drawing`` there (JSON strokes, see review.notes.read_drawing)."""
        view = _shot(shot_id)
        if take is None:
            subject, version = shot_subject(shot_id), None
        else:
            found = next((t for s in view.slots for t in s.takes if t.take.id == take), None)
            if found is None:
                raise Refused(404, f"shot {shot_id} has no take {take}")
            subject, version = found.take.slot, found.take.version
        note, _clock = write_note(dailies.generation(), dailies.breakdown(), subject, body, by=member.name,
                                  version=version, frame=frame, drawing=read_drawing(drawing) if drawing else None)
        notifier.mention(member.name, shot_id, note.body, note.id, (m.name for m in crew.members()))
        return _done(request, shot_id, "noted", {"note": note.id, "frame": frame})

    @app.post("/shots/{shot_id}/status", tags=["actions"])
    def change_status(request: Request, shot_id: ShotId, member: Annotated[Member, Depends(may("read"))],
                      status: Annotated[str, Form(max_length=40)]) -> Response:
        """Move the shot to a review status; approved and final are for those who approve, the rest for those
        who write notes. Kept in the shot's history with who and when."""
        _shot(shot_id)
        checked_status(status)
        action = action_for(status)
        if not member.may(action):
            raise Refused(403, f"a {member.role} may not set a shot {status}; ask a "
                               f"{' or '.join(r for r, can in ROLES.items() if action in can)}")
        dailies.generation().store.set_status(shot_subject(shot_id), status, by=member.name)
        notifier.status(member.name, shot_id, status)
        return _done(request, shot_id, "status", {"status": status})

    @app.post("/shots/{shot_id}/regenerate", tags=["actions"])
    def regenerate(request: Request, shot_id: ShotId, member: Annotated[Member, Depends(may("generate"))],
                   slot: Annotated[str, Form(max_length=200, examples=["shot/2-1/element/rain"])],
                   prompt: Annotated[str, Form(max_length=4000)] = "",
                   seed: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None) -> Response:
        """A new take of one of the shot's slots with an edited prompt or seed, made in the background.

        Refused (the job ends "refused") when the take would cross the budget; nothing is sent then."""
        view = _shot(shot_id)
        if slot not in {s.slot for s in view.slots}:
            raise Refused(404, f"shot {shot_id} has no slot {slot!r}")
        try:
            job = board.regenerate(shot_id, slot, prompt=prompt.strip() or None, seed=seed, by=member.name)
        except Busy as exc:
            raise Refused(409, exc.message) from None
        return _queued(request, shot_id, job.id)

    @app.post("/shots/{shot_id}/render", tags=["actions"])
    def render_shot(request: Request, shot_id: ShotId, member: Annotated[Member, Depends(may("render"))]) -> Response:
        """Render the shot again from its chosen takes (after an approval or a new plate)."""
        _shot(shot_id)
        try:
            job = board.render(shot_id, by=member.name)
        except Busy as exc:
            raise Refused(409, exc.message) from None
        return _queued(request, shot_id, job.id)

    @app.post("/render", tags=["actions"])
    def render_film(request: Request, member: Annotated[Member, Depends(may("render"))]) -> Response:
        """Render every shot and the cut."""
        try:
            job = board.render(None, by=member.name)
        except Busy as exc:
            raise Refused(409, exc.message) from None
        if wants_html(request):
            return RedirectResponse(f"/?job={job.id}&said=queued", status_code=303)
        return JSONResponse(job.to_dict(), status_code=202)

    @app.post("/shots/{shot_id}/plate", tags=["actions"])
    def upload_plate(request: Request, shot_id: ShotId, member: Annotated[Member, Depends(may("upload"))],
                     plate: Annotated[UploadFile, File()]) -> Response:
        """Replace the shot's plate with a file of its kind (a movie or a still) that the render would take; the
        plate it replaces is kept in plates/previous/ and the change recorded."""
        view = _shot(shot_id)
        if not view.shot.plate:
            raise Refused(409, f"shot {shot_id} has no plate in shots.toml; add one there first")
        target = project.inside(view.shot.plate, source=project.shots_file, key="plate")
        suffix = Path(plate.filename or "").suffix.lower()
        if suffix not in PLATE_SUFFIXES or suffix != target.suffix.lower():
            raise Refused(415, f"upload a {target.suffix} file: shot {shot_id}'s plate is {view.shot.plate}")
        try:
            done = replace_plate(project, sessions, view.shot, plate.file, by=member.name, limit=upload_limit)
        except TooLarge as exc:
            raise Refused(413, exc.message) from None
        except NotAPlate as exc:
            raise Refused(415, str(exc)) from None
        except Mismatch as exc:
            raise Refused(422, exc.message) from None
        info = done.info
        return _done(request, shot_id, "plate-conformed" if done.warnings else "plate",
                     {"plate": view.shot.plate, "width": info.width, "height": info.height, "frames": info.frames,
                      "still": info.still, "warnings": list(done.warnings), "kept": done.change.kept})

    # ------------------------------------------------------------------------------------------ inside

    def _shot(shot_id: ShotId) -> ShotView:
        try:
            return dailies.shot(shot_id)
        except ProjectError as exc:
            if exc.message.startswith("no shot"):
                raise Refused(404, exc.message) from None
            raise

    def _take(take_id: int) -> Any:
        try:
            return dailies.take(take_id)
        except ProjectError:
            raise Refused(404, f"no take {take_id}") from None

    def _done(request: Request, shot: str, said: str, answer: dict[str, Any]) -> Response:
        if wants_html(request):
            known = shot in {s.id for s in dailies.breakdown().shots}
            return RedirectResponse(f"/shots/{quote(shot)}?said={said}" if known else f"/?said={said}",
                                    status_code=303)
        return JSONResponse({"done": said} | answer)

    def _queued(request: Request, shot: str, job_id: int) -> Response:
        if wants_html(request):
            return RedirectResponse(f"/shots/{quote(shot)}?job={job_id}&said=queued", status_code=303)
        return JSONResponse(board.get(job_id).to_dict(), status_code=202)  # type: ignore[union-attr]

    def _shot_summary(view: ShotView) -> dict[str, Any]:
        status, tone = view.status
        record = view.record
        return {"id": view.shot.id, "scene": view.shot.scene, "heading": view.heading,
                "duration": view.shot.duration, "plate": view.shot.plate, "movie": view.movie, "status": status,
                "review": view.review,
                "tone": tone, "approved": view.approved_count, "slots": len(view.slots),
                "ai_share": getattr(record, "ai_share", None)}

    def _take_summary(view: Any) -> dict[str, Any]:
        t = view.take
        return {"id": t.id, "slot": t.slot, "take": t.label, "engine": t.engine, "model": t.model,
                "prompt": t.prompt, "seed": t.seed, "cost_usd": t.cost_usd, "seconds": t.seconds,
                "source_type": t.source_type, "made": t.created_at.isoformat(timespec="seconds"),
                "approved": view.approved, "used": view.used, "approved_by": view.approved_by or None,
                "approved_at": view.approved_at.isoformat(timespec="seconds") if view.approved_at else None,
                "files": view.files}

    def _note(note: Any, clocks: dict[str, Any]) -> dict[str, Any]:
        frame, label = note_frame(note, clocks, project.settings.review.first_frame)
        return {"id": note.id, "subject": note.subject, "by": note.author, "body": note.body,
                "at": note.created_at.isoformat(timespec="seconds"), "frame": frame, "timecode": label,
                "drawing": note.drawing}

    return app


def _local(target: str) -> str:
    """Only a path on this site may be a redirect target (never //elsewhere or a full URL)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


@pass_context
def _when(context: Any, moment: datetime | None) -> str:
    """A moment as the reader's language writes a date: ``07 Dec 23:01``, ``12월 7일 23:01``."""
    if moment is None:
        return ""
    words, language = words_of("review"), context.get("language", "en")
    return words.text("date", language).format(day=str(moment.day), time=f"{moment:%H:%M}",
                                               month=words.text(f"month_{moment.month}", language))


@pass_context
def _word(context: Any, name: str, language: str | None = None) -> str:
    """A named text of the review words, in ``language`` (the reader's if None)."""
    return words_of("review").text(name, language or context.get("language", "en"))


def _money(budget: Any) -> Callable[..., str]:
    """``show_money(amount)``: money as the reader's language writes it, ``$0.04``, ``₩1,234`` or ``1,234원`` (no
    decimals in won), from the budget's ``show`` (the number and its currency, as the reports write it)."""

    @pass_context
    def show(context: Any, amount: float, *, converted: bool = False) -> str:
        number, currency = budget.show(amount, converted=converted).rsplit(" ", 1)
        form = words_of("review").by_name(context.get("language", "en")).get(f"money {currency}")
        return form.format(amount=number) if form else f"{number} {currency}"

    return show


def _spoken(request: Request) -> str:
    """Before sign-in, the language the browser asks for first of those the app speaks (else English)."""
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


class _BodyLimit:
    """Refuse a request body over the limit before it is read: plates up to ``uploads``, other bodies
    ``limit``. A body without a Content-Length (chunked) is refused: browsers always send one, and a body
    whose size is not known up front would have to be read to be measured."""

    def __init__(self, app: ASGIApp, *, limit: int, uploads: int) -> None:
        self.app, self.limit, self.uploads = app, limit, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.uploads if path.startswith("/shots/") and path.endswith("/plate") else self.limit
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None and b"transfer-encoding" in headers:
            await _refuse(send, 411, "send the body with a Content-Length")
        elif length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(send, 413, f"the request body is over the {limit // 1024} KB limit")
        else:
            await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
