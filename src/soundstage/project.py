"""The project folder and its settings.

A project is a folder: ``soundstage.toml``, the screenplay, ``shots.toml``, ``plates/`` and ``refs/``;
state lives in ``.soundstage/`` and outputs in ``out/``. Every path a user writes in a settings file is
resolved here, and refused if it leads outside the folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from soundstage.errors import ProjectError
from soundstage.records.settings import CompSettings
from soundstage.tomlfile import read_toml

SETTINGS_FILE = "soundstage.toml"
SHOTS_FILE = "shots.toml"
DB_FILE = "soundstage.db"
DATABASE_ENV = "SOUNDSTAGE_DATABASE_URL"


class Look(BaseModel):
    """The style bible: added to every prompt so the whole film looks like one film."""

    model_config = ConfigDict(extra="forbid")

    era: str = ""
    palette: str = ""
    lens: str = ""
    film_stock: str = ""
    notes: str = ""

    def as_prompt(self) -> str:
        return ", ".join(part for part in (self.era, self.palette, self.lens, self.film_stock, self.notes) if part)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: float = Field(0.0, ge=0, description="0 means no generation that costs money is allowed")
    currency: Literal["USD", "KRW"] = "USD"
    usd_rate: float | None = Field(None, gt=0, description="how much one US dollar is in `currency`")

    @model_validator(mode="after")
    def _rate_for_other_currencies(self) -> Budget:
        if self.currency != "USD" and self.limit > 0 and self.usd_rate is None:
            raise ValueError(f"usd_rate is needed to hold USD prices to a {self.currency} budget, e.g. 1400")
        return self

    def to_currency(self, usd: float) -> float:
        """Prices are quoted in USD; the budget may be kept in another currency."""
        return usd if self.currency == "USD" else usd * (self.usd_rate or 0.0)

    def show(self, amount: float, *, converted: bool = False) -> str:
        """Money as the crew reads it: ``0.04 USD``, ``56 KRW``. ``amount`` is USD unless ``converted``."""
        value = amount if converted else self.to_currency(amount)
        if self.currency == "KRW" and self.usd_rate is None and not converted:
            return f"{amount:,.2f} USD"
        return f"{value:,.0f} {self.currency}" if self.currency == "KRW" else f"{value:,.2f} {self.currency}"


class PlateSettings(BaseModel):
    """What to do with a plate that does not match the project. Never a stretch; a size is fitted (the whole
    picture, bars around, said once in the render's warnings) unless told to refuse; a rate is refused."""

    model_config = ConfigDict(extra="forbid")

    size: Literal["refuse", "fit", "fill"] = Field(
        "fit", description="fit: scale inside the frame, bars around; fill: scale to cover, crop the overhang")
    rate: Literal["refuse", "retime"] = Field(
        "refuse", description="retime: drop or repeat frames to the project's rate (motion judders)")


class RenderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deliver: list[Literal["prores", "png", "exr"]] = Field(
        default_factory=list, description="finishing masters written beside each shot's H.264 review movie")
    threads: int = Field(2, ge=1, le=64, description="frames of a shot comped at once (one per core pays)")
    jobs: int = Field(1, ge=1, le=256, description="shots rendered at once on this machine (--jobs)")
    executor: Literal["local", "ray"] = Field("local", description="ray: run the steps as Ray tasks (--executor)")
    ray_address: str | None = Field(None, description="the Ray cluster to join, e.g. ray://head:10001 (--address)")
    storage: str | None = Field(None, description="also publish finished outputs here: a path or an fsspec URL "
                                                  "such as s3://bucket/film (pip install 'soundstage[storage]')")


class EditSettings(BaseModel):
    """How the cut is handed to an editor (``soundstage cut``)."""

    model_config = ConfigDict(extra="forbid")

    start_timecode: str = Field("01:00:00:00", description="record timecode of the cut's first frame, HH:MM:SS:FF "
                                                           "(drop-frame at 29.97 and 59.94 fps)")

    @field_validator("start_timecode")
    @classmethod
    def _timecode(cls, value: str) -> str:
        match = re.fullmatch(r"(\d\d):(\d\d):(\d\d)[:;](\d\d)", value)
        if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3]) > 59:
            raise ValueError(f"{value!r} is not a timecode like 01:00:00:00 (HH:MM:SS:FF)")
        return value


class DatabaseSettings(BaseModel):
    """Where takes, approvals, notes, jobs and renders are kept: the project's SQLite file unless a URL is given.

    ``SOUNDSTAGE_DATABASE_URL`` overrides ``url``, so a password never has to be written in the project.
    """

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="e.g. postgresql+psycopg://render@db.studio/film (a shared server)")


def _sheet_colour(value: str) -> str:
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
        raise ValueError(f"{value!r} is not a colour; write it as #rrggbb, e.g. \"#1e88e5\"")
    return value.lower()


class BreakdownSheetSettings(BaseModel):
    """``[reports.breakdown]``: the breakdown sheets' category colours, over the industry's (cast red, …)."""

    model_config = ConfigDict(extra="forbid")

    colours: dict[str, Annotated[str, AfterValidator(_sheet_colour)]] = Field(
        default_factory=dict, description='category → #rrggbb, e.g. vfx = "#00897b"; unset: the industry colour')


class ReportSettings(BaseModel):
    """How the reports read: their language, and the currency amounts are shown in (with the rate's date)."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["en", "ko"] = Field("en", description="the labels of every report: English or Korean")
    currency: Literal["USD", "KRW"] | None = Field(None, description="default: the budget's currency")
    usd_rate: float | None = Field(None, gt=0, description="one US dollar in `currency`; default: the budget's")
    rate_date: str | None = Field(None, description="when usd_rate was read, printed beside it, e.g. 2026-11-30")
    breakdown: BreakdownSheetSettings = BreakdownSheetSettings()


class LabelSettings(BaseModel):
    """The visible AI label on the cut (Korea's AI Basic Act Art. 31, EU AI Act Art. 50(4)).

    ``realistic`` (the default) labels clearly: a corner mark on every frame of a shot with generated pixels,
    and a closing card naming the tools. ``artistic`` keeps the card only, the label the law allows for
    creative works because it does not spoil viewing; ``none`` leaves the signed metadata and watermark alone
    to disclose. Which one a film may use is for a person with counsel to decide, so the safe one is default.
    """

    model_config = ConfigDict(extra="forbid")

    policy: Literal["realistic", "artistic", "none"] = "realistic"
    language: Literal["en", "ko"] | None = Field(None, description="the label's text; default: [reports] language")
    corner: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = "top-right"
    opacity: float = Field(0.8, gt=0, le=1, description="of the corner mark")
    size: float = Field(0.035, ge=0.01, le=0.2, description="the mark's text height, as a share of the frame's")
    credits_seconds: float = Field(5.0, gt=0, le=60, description="how long the closing card is held")
    font: str | None = Field(None, description="a .ttf/.otf/.ttc inside the project, e.g. one with Hangul")


class ReviewSettings(BaseModel):
    """The review copy of the cut, ``out/cut_review.mp4``: burn-ins on a separate file, the cut stays clean."""

    model_config = ConfigDict(extra="forbid")

    burn_in: bool = Field(False, description="write out/cut_review.mp4 with shot, takes and record timecode "
                                             "([edit] start_timecode) burnt in; also soundstage render --burn-in")


class ProvenanceSettings(BaseModel):
    """Who signs what soundstage writes: the project's own CA by default, or a studio's chain and key or KMS.

    Paths are inside the project or absolute; ``signer`` is ``module:function`` on the Python path, a function
    a studio writes that takes the bytes to sign and returns the signature, so the key never leaves its KMS.
    """

    model_config = ConfigDict(extra="forbid")

    sign: bool = Field(True, description="false: write files without C2PA manifests")
    watermark: bool = Field(True, description="false: no invisible watermark on generated pixels")
    chain: str | None = Field(None, description="PEM: the signing certificate, then its intermediates")
    key: str | None = Field(None, description="PKCS#8 PEM key of the chain's signing certificate, mode 0600")
    signer: str | None = Field(None, description="module:function that signs bytes with a key held elsewhere")
    root: str | None = Field(None, description="the studio's root certificate, given to whoever verifies")
    tsa_url: str | None = Field(None, description="an RFC 3161 timestamp authority; none keeps signing offline")

    @model_validator(mode="after")
    def _one_way_to_sign(self) -> ProvenanceSettings:
        if self.key and self.signer:
            raise ValueError("give key or signer, not both")
        if (self.key or self.signer) and not self.chain:
            raise ValueError("chain is needed with key or signer: the certificates the manifest carries")
        if self.chain and not (self.key or self.signer):
            raise ValueError("chain needs key or signer: what signs for its first certificate")
        if self.root and not self.chain:
            raise ValueError("root is the studio chain's trust anchor; the project CA's is .soundstage/keys/root.pem")
        if self.signer and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", self.signer):
            raise ValueError(f"signer = {self.signer!r} is not module:function, e.g. studio_kms:sign")
        if self.tsa_url and not self.tsa_url.startswith(("http://", "https://")):
            raise ValueError(f"tsa_url = {self.tsa_url!r} is not an http(s) URL")
        return self


class Settings(BaseModel):
    """``soundstage.toml``. Unknown keys are refused, so a typo never silently falls back to a default."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    screenplay: str = Field(min_length=1, description="path of the .fountain or .fdx file, inside the project")
    fps: float = Field(24.0, gt=0, le=240)
    resolution: tuple[int, int] = (1920, 1080)
    engine: str = "procedural"
    seed: int = Field(1, ge=0)
    shot_duration: float = Field(4.0, gt=0, le=600, description="seconds, for shots that do not say")
    look: Look = Look()
    budget: Budget = Budget()
    comp: CompSettings = CompSettings()
    plates: PlateSettings = PlateSettings()
    render: RenderSettings = RenderSettings()
    database: DatabaseSettings = DatabaseSettings()
    provenance: ProvenanceSettings = ProvenanceSettings()
    edit: EditSettings = EditSettings()
    reports: ReportSettings = ReportSettings()
    labels: LabelSettings = LabelSettings()
    review: ReviewSettings = ReviewSettings()
    engines: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                               description="[engines.<name>] tables, checked by each engine")

    @field_validator("resolution")
    @classmethod
    def _even_resolution(cls, value: tuple[int, int]) -> tuple[int, int]:
        width, height = value
        if not (16 <= width <= 8192 and 16 <= height <= 8192):
            raise ValueError("width and height must be between 16 and 8192")
        if width % 2 or height % 2:
            raise ValueError("width and height must be even (H.264 needs it)")
        return value


@dataclass(frozen=True)
class Project:
    root: Path
    settings: Settings

    @classmethod
    def load(cls, folder: str | Path) -> Project:
        root = Path(folder)
        settings_path = root / SETTINGS_FILE
        if not root.is_dir():
            raise ProjectError("no such project folder", path=root, hint="create one with 'soundstage new'")
        if not settings_path.is_file():
            raise ProjectError(f"no {SETTINGS_FILE} here", path=root, hint="create one with 'soundstage new'")
        return cls(root.resolve(), load_settings(settings_path))

    @property
    def state_dir(self) -> Path:
        return self.root / ".soundstage"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def database(self) -> str | Path:
        """The database URL (environment first, then ``[database] url``), else the project's SQLite file."""
        return os.environ.get(DATABASE_ENV) or self.settings.database.url or self.state_dir / DB_FILE

    @property
    def shots_file(self) -> Path:
        return self.root / SHOTS_FILE

    @property
    def screenplay_path(self) -> Path:
        return self.inside(self.settings.screenplay, source=self.settings_path, key="screenplay")

    def inside(self, relative: str, *, source: Path, key: str, line: int | None = None) -> Path:
        """Resolve a path written in ``source`` and refuse it unless it stays inside the project."""
        return resolve_inside(self.root, relative, source=source, key=key, line=line)


def shown_in(path: Path, root: Path) -> str:
    """A path as records and reports show it: relative to the project when inside it, else as it is."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def resolve_inside(root: Path, relative: str, *, source: Path, key: str, line: int | None = None) -> Path:
    root = root.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise ProjectError(
            f"{key} = {relative!r} points outside the project folder {root}",
            path=source,
            line=line,
            hint="keep plates, screenplays and references inside the project",
        )
    return target


def load_settings(path: Path) -> Settings:
    raw, text = read_toml(path)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise settings_error(exc, path, text) from None


def settings_error(exc: ValidationError, path: Path, text: str) -> ProjectError:
    """Turn pydantic's report into one line naming the file, the key and (where found) its line."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"]
    if first["type"] == "missing":
        message = "is missing"
    elif first["type"] == "extra_forbidden":
        message = "is not a known setting"
    elif first["type"] == "value_error":
        message = str(first.get("ctx", {}).get("error", message))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return ProjectError(f"{key}: {message}{more}", path=path, line=find_key_line(text, str(first["loc"][-1])))


def find_key_line(text: str, key: str) -> int | None:
    """The line where ``key = …`` is set, or where its ``[key]`` table opens."""
    name = re.escape(key)
    pattern = re.compile(rf"^[ \t]*(?:\"?{name}\"?\s*=|\[(?:[\w.\"-]*\.)?\"?{name}\"?\])", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


