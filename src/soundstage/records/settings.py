"""The settings schema of ``soundstage.toml`` and ``shots.toml``, declared once, on the ground floor.

``project.py`` (which reads ``soundstage.toml`` into :class:`Settings`), the breakdown (each shot's entry), the
pipeline and the ``key`` command all read these models; none of them declares a setting of its own. Only
pydantic is imported here.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

TRACK_MODES = ("off", "auto", "translation", "similarity", "homography")


class Lens(BaseModel):
    """A shot's ``camera.lens = {…}``: OpenCV's Brown–Conrady distortion; fx/fy/cx/cy default from the frame."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    k1: float = Field(0.0, ge=-2, le=2, description="radial distortion, r²; < 0 barrel, > 0 pincushion")
    k2: float = Field(0.0, ge=-2, le=2, description="radial distortion, r⁴")
    p1: float = Field(0.0, ge=-0.1, le=0.1, description="tangential distortion (decentred elements)")
    p2: float = Field(0.0, ge=-0.1, le=0.1, description="tangential distortion (decentred elements)")
    fx: float | None = Field(None, gt=0, description="focal length in px; default: the frame's longer side")
    fy: float | None = Field(None, gt=0, description="focal length in px, vertically; default: fx")
    cx: float | None = Field(None, description="optical centre in px; default: the frame's centre")
    cy: float | None = Field(None, description="optical centre in px; default: the frame's centre")


class Camera(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    move: Literal["static", "push-in", "pull-out", "pan-left", "pan-right", "tilt-up", "tilt-down"] = "static"
    amount: float = Field(0.08, ge=0, le=0.5, description="fraction of the frame the move travels")
    parallax: float = Field(0.0, ge=0, le=1, description="0: the set moves as one card; 1: near layers move most")
    track: str = Field("off", description="follow the plate's camera: off, auto, a model, or a .csv/.chan inside "
                       "the project")
    locked: bool = Field(False, description="render as locked-off when the plate has nothing to track")

    @field_validator("track")
    @classmethod
    def _track_mode(cls, value: str) -> str:
        if value in TRACK_MODES or value.lower().endswith((".csv", ".chan")):
            return value
        raise ValueError(f"must be {', '.join(TRACK_MODES)}, or a .csv or .chan file inside the project, not {value!r}")
    shutter: float = Field(180.0, gt=0, le=360, description="shutter angle in degrees: the set's motion blur")
    lens: Lens | None = Field(None, description="the plate's lens distortion, matched on the set")


Point = tuple[Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]]
Shape = Annotated[list[Point], Field(min_length=3)]


class KeySettings(BaseModel):
    """A shot's ``key = {…}``: how its plate is keyed. Defaults suit a well-lit screen."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    screen_colour: tuple[int, int, int] | None = Field(None, description="RGB 0..255; default: measured")
    clean_plate: str | None = Field(None, description="the empty screen from the same set-up (image or clip)")
    clip_black: float = Field(0.12, ge=0, lt=1)
    clip_white: float = Field(0.9, gt=0, le=1)
    detail_black: float = Field(0.03, ge=0, lt=1)
    gain: float = Field(1.0, ge=0.1, le=10)
    balance: float | None = Field(None, ge=0, le=1)
    despill: Literal["edge", "average", "limit", "none"] = "edge"
    spill_luma: float = Field(0.0, ge=0, le=1)
    refine: int = Field(0, ge=0, le=8, description="px radius of the guided edge refit; 0: off")
    fill_holes: bool = Field(True, description="solid where the subject walls in a screen-coloured patch")
    shrink: int = Field(0, ge=-20, le=20, description="erode (< 0) or grow (> 0) the matte, px")
    softness: float = Field(0.0, ge=0, le=20, description="blur of the matte edge, px")
    keep: list[Shape] = Field(default_factory=list, description="shapes the subject stays inside")
    garbage: list[Shape] = Field(default_factory=list, description="shapes always keyed out")
    core: list[Shape] = Field(default_factory=list, description="shapes always kept solid")
    feather: float = Field(2.0, ge=0, le=50, description="px of softness on the roto shapes")
    markers: bool | None = Field(None, description="key out the screen's tracking markers; default: where the "
                                                   "camera is tracked (camera.track)")

    @model_validator(mode="after")
    def _levels_in_order(self) -> KeySettings:
        if not (self.clip_black < self.clip_white and self.detail_black < self.clip_white):
            raise ValueError("clip_black and detail_black must be below clip_white")
        return self

    def keyer_arguments(self) -> dict[str, Any]:
        """These settings as ``comp.keyer.key`` takes them: the levels, despill and matte tools; the clean
        plate, roto shapes and screen colour are pictures and shapes the caller builds at the plate's size."""
        return {"clip_black": self.clip_black, "clip_white": self.clip_white, "detail_black": self.detail_black,
                "gain": self.gain, "balance": self.balance, "despill": None if self.despill == "none" else self.despill,
                "spill_luma": self.spill_luma, "refine": self.refine, "shrink": self.shrink,
                "softness": self.softness, "fill_holes": self.fill_holes}


BlendMode = Literal["over", "screen", "add"]


class CompSettings(BaseModel):
    """How a shot's layers sit together: ``[comp]`` in soundstage.toml for the film, ``comp = {…}`` per shot."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    match_colour: float = Field(0.0, ge=0, le=1, description="move the actors' colour toward the set's")
    light_wrap: float = Field(0.0, ge=0, le=1, description="the set's light bleeding onto the actors' edges")
    grain: Literal["match", "none"] = Field("match", description="grain measured on the plate, added to the set")
    defocus: float = Field(0.0, ge=0, le=1, description="lens blur of the set away from the focus depth")
    focus: float = Field(0.0, ge=0, le=1, description="depth in focus: 0 nearest, 1 the horizon")
    motion_blur: float = Field(0.0, ge=0, le=1, description="shutter of the elements' motion blur (0.5 = 180°)")
    blend: dict[str, BlendMode] = Field(default_factory=dict, description="element → over, screen or add")
    lut: str | None = Field(None, description="a .cube file inside the project: the final grade")
    shadow: float = Field(0.5, ge=0, le=1, description="the actors' shadow cast on the set from the matte; 0: off")
    contact: float = Field(0.5, ge=0, le=1, description="the dark where a standing actor meets the ground; 0: off")
    interactive_light: float = Field(1.0, ge=0, le=1, description="bright elements (fire, magic…) light the actors")
    relight: float = Field(0.0, ge=0, le=1, description="grade the actors toward the set's key and fill light")
    light: Point | None = Field(None, description="where the key light is, frame fractions; default: the set's "
                                                  "brightest region")
    lut_space: str | None = Field(None, description="the colour space the LUT expects (with [colour]): a scene "
                                                    "space such as ACEScct, or none: the review display's code")
    cdl: str | None = Field(None, description="an ASC CDL (.cdl/.cc) inside the project: the shot's grade, "
                                              "applied before the LUT (with [colour])")
    cdl_space: str = Field("ACEScct", description="the colour space the CDL expects")


STEMS = ("dialogue", "effects", "ambience")   # the mix's stems, in the order deliveries list them


class ShotSound(BaseModel):
    """A shot's ``sound = {…}``: where its production sound comes from, and the gain of each of its layers."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    production: bool = Field(True, description="keep the plate's own sound (false: the shot plays without it)")
    wav: str | None = Field(None, description="a sound recorder's file for this plate (double-system), inside "
                                              "the project; synced by its BWF timecode, else by its waveform")
    gain: dict[str, Annotated[float, Field(ge=-60, le=12)]] = Field(
        default_factory=dict, description="dB per layer: a stem (dialogue, effects, ambience) or an element name")


# A shot id is slate-sized. It names files (out/shots/<id>.mp4, masters as <id>_exr/<id>.0001.exr, records),
# and a file name holds 255 bytes, a Hangul letter taking 3; it names take slots and timeline clips, and is
# read at a glance in a burn-in, a table cell or a review playlist. 32 letters leave all of these room.
SHOT_ID_MAX = 32
SCENE_NUMBER_MAX = SHOT_ID_MAX // 2    # room for the shot's own part (12A → 12A-3) and inserted scenes (12AB)
SHOT_ID = re.compile(r"[^\W_][\w.-]*")   # the characters a shot id (and so a scene number) may hold


class ElementPlacement(BaseModel):
    """One element of a shot placed: ``{ name = "fire", at = [0.75, 0.85], scale = 0.4, order = "front" }``.

    What is left out comes from the script's notes ("fire in front of the forge") and the comp's defaults
    (rain fills the frame; anything else keeps off the actor's face)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(min_length=1)
    at: Point | None = Field(None, description="the element's centre, frame fractions, x right and y down")
    scale: float = Field(1.0, gt=0, le=8, description="of the element as generated (1: its own size)")
    order: Literal["front", "behind"] | None = Field(None, description="in front of the actors or behind them")
    depth: float | None = Field(None, gt=0, le=100000, description="metres from the camera, against the set's "
                                                                   "depth: sets order and scale")
    anchor: Literal["ground", "air"] = Field("air", description="ground: its foot stands on the set's ground")
    start: float = Field(0.0, ge=0, le=600, description="seconds into the shot it appears")
    to: Point | None = Field(None, description="where its centre travels to by the shot's end (a path from at)")


class ShotEntry(BaseModel):
    """One ``[[shot]]`` of ``shots.toml``: anything left out comes from the screenplay and the settings."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str = Field(min_length=1)
    scene: str = Field(min_length=1)
    plate: str | None = None
    duration: float | None = Field(None, gt=0, le=600)
    prompt: str | None = None
    elements: list[ElementPlacement | str] | None = None
    cast: list[str] | None = Field(None, description="cast members in it, by their cast/ folder; default: those its "
                                                     "scene's action or notes name")
    camera: Camera = Field(default_factory=Camera)   # a factory: a default instance is deep-copied, slowly
    screen: Literal["auto", "green", "blue"] = "auto"
    plate_space: str | None = Field(None, description="the plate's encoding, e.g. \"ARRI LogC4\", \"S-Log3\", "
                                                      "\"Rec.709\"; default: [plates] space")
    seed: int | None = Field(None, ge=0)
    engine: str | None = None                       # this shot's elements and background; None: the project's
    background: Literal["still", "moving"] = "still"  # moving: a generated video instead of a camera move on the set
    first_frame: str | None = Field(None, description="a picture in the project the moving background starts "
                                                      "from; default: its location's set still")
    last_frame: str | None = Field(None, description="a picture in the project the moving background ends on")
    key: KeySettings = Field(default_factory=KeySettings)
    comp: CompSettings = Field(default_factory=CompSettings)  # what it sets overrides [comp]
    sound: ShotSound = Field(default_factory=ShotSound)
    lines: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, description="the scene's lines this shot plays, numbered from 1 (subtitles); default: shared by "
                          "the scene's shots with plates, in order")

    def placements(self) -> list[ElementPlacement] | None:
        """Every element as placed, a plain name as one with nothing set; None where shots.toml lists none.
        The one reader of ``elements``: names are ``[p.name for p in entry.placements()]``."""
        if self.elements is None:
            return None
        return [ElementPlacement(name=e) if isinstance(e, str) else e for e in self.elements]

    @field_validator("id")
    @classmethod
    def _shot_id(cls, value: str) -> str:
        """Refused when shots.toml is read, not when its first file is written minutes into a render."""
        if len(value) > SHOT_ID_MAX:
            raise ValueError(f"is {len(value)} characters; a shot id is at most {SHOT_ID_MAX} (it names files)")
        if not SHOT_ID.fullmatch(value):
            if not re.fullmatch(r"[\w.-]+", value):
                raise ValueError(f"{value!r} may hold only letters, digits, '.', '_' and '-'")
            raise ValueError(f"{value!r} must start with a letter or digit")
        return value


def choices(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The words a setting takes (a ``Literal``), in the order declared: for a command-line flag of the same."""
    return get_args(model.model_fields[name].annotation)


def bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """A setting's least and greatest value (its ``ge`` and ``le``): for a command-line flag of the same."""
    metadata = model.model_fields[name].metadata
    return tuple(next(getattr(m, bound) for m in metadata if hasattr(m, bound)) for bound in ("ge", "le"))  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------- soundstage.toml


class Look(BaseModel):
    """The style bible: added to every prompt so the whole film looks like one film."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    era: str = ""
    palette: str = ""
    lens: str = ""
    film_stock: str = ""
    notes: str = ""

    def as_prompt(self) -> str:
        return ", ".join(part for part in (self.era, self.palette, self.lens, self.film_stock, self.notes) if part)


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

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

    model_config = ConfigDict(extra="forbid", defer_build=True)

    size: Literal["refuse", "fit", "fill"] = Field(
        "fit", description="fit: scale inside the frame, bars around; fill: scale to cover, crop the overhang")
    rate: Literal["refuse", "retime"] = Field(
        "refuse", description="retime: drop or repeat frames to the project's rate (motion judders)")
    space: str = Field("Rec.709", description="the plates' encoding where a shot does not say (plate_space); "
                                              "read only with [colour]")


class RenderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

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

    model_config = ConfigDict(extra="forbid", defer_build=True)

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

    model_config = ConfigDict(extra="forbid", defer_build=True)

    url: str | None = Field(None, description="e.g. postgresql+psycopg://render@db.studio/film (a shared server)")


def _sheet_colour(value: str) -> str:
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", value):
        raise ValueError(f"{value!r} is not a colour; write it as #rrggbb, e.g. \"#1e88e5\"")
    return value.lower()


class BreakdownSheetSettings(BaseModel):
    """``[reports.breakdown]``: the breakdown sheets' category colours, over the industry's (cast red, …)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    colours: dict[str, Annotated[str, AfterValidator(_sheet_colour)]] = Field(
        default_factory=dict, description='category → #rrggbb, e.g. vfx = "#00897b"; unset: the industry colour')


class ReportSettings(BaseModel):
    """How the reports read: their language, and the currency amounts are shown in (with the rate's date)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    language: Literal["en", "ko"] = Field("en", description="the labels of every report: English or Korean")
    currency: Literal["USD", "KRW"] | None = Field(None, description="default: the budget's currency")
    usd_rate: float | None = Field(None, gt=0, description="one US dollar in `currency`; default: the budget's")
    rate_date: str | None = Field(None, description="when usd_rate was read, printed beside it, e.g. 2026-11-30")
    breakdown: BreakdownSheetSettings = Field(default_factory=BreakdownSheetSettings)


class LabelSettings(BaseModel):
    """The visible AI label on the cut (Korea's AI Basic Act Art. 31, EU AI Act Art. 50(4)).

    ``realistic`` (the default) labels clearly: a corner mark on every frame of a shot with generated pixels,
    and a closing card naming the tools. ``artistic`` keeps the card only, the label the law allows for
    creative works because it does not spoil viewing; ``none`` leaves the signed metadata and watermark alone
    to disclose. Which one a film may use is for a person with counsel to decide, so the safe one is default.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    policy: Literal["realistic", "artistic", "none"] = "realistic"
    language: Literal["en", "ko"] | None = Field(None, description="the label's text; default: [reports] language")
    corner: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = "top-right"
    opacity: float = Field(0.8, gt=0, le=1, description="of the corner mark")
    size: float = Field(0.035, ge=0.01, le=0.2, description="the mark's text height, as a share of the frame's")
    credits_seconds: float = Field(5.0, gt=0, le=60, description="how long the closing card is held")
    font: str | None = Field(None, description="a .ttf/.otf/.ttc inside the project, e.g. one with Hangul")


# A shot's review statuses, in the order a shot moves through them; [review] statuses renames them.
SHOT_STATUSES = ("waiting", "wip", "review", "retake", "approved", "final")


# What the review app tells people about: a new take made, a shot approved or sent back, a name @mentioned.
NOTICES = ("take", "approved", "retake", "mention")


class Webhook(BaseModel):
    """A URL the review app posts its notices to: plain JSON, or Slack's incoming-webhook shape."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    url: str = Field(pattern=r"^https?://", description="where notices are POSTed")
    format: Literal["json", "slack"] = Field("json", description="json: soundstage's own fields; slack: {text}")
    events: tuple[str, ...] = Field(NOTICES, description="which notices: take, approved, retake, mention")


class MailSettings(BaseModel):
    """E-mail over SMTP for the review app's notices."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    host: str = Field(min_length=1, description="the SMTP server")
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field(min_length=3, description="the From address")
    to: tuple[str, ...] = Field((), description="who hears of every notice")
    people: dict[str, str] = Field(default_factory=dict, description="crew name → e-mail, for @mentions")
    starttls: bool = Field(False, description="upgrade the connection with STARTTLS")
    user: str | None = Field(None, description="SMTP user; the password is read from $SOUNDSTAGE_SMTP_PASSWORD")
    events: tuple[str, ...] = Field(NOTICES, description="which notices: take, approved, retake, mention")


class NotifySettings(BaseModel):
    """Who hears what happens in the review app. Sent in the background: a receiver that fails never holds up
    the crew's action; it is logged and tried again ``tries`` times in all."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    webhooks: tuple[Webhook, ...] = ()
    email: MailSettings | None = None
    tries: int = Field(3, ge=1, le=10, description="attempts per notice and receiver, a second apart, doubling")
    timeout: float = Field(5.0, gt=0, le=60, description="seconds one attempt may take")
    language: Literal["en", "ko"] = Field("en", description="the notices' words: English or Korean")


class ReviewSettings(BaseModel):
    """The review copy of the cut, ``out/cut_review.mp4`` (burn-ins on a separate file, the cut stays clean), and
    how the review app counts frames and names a shot's statuses."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    burn_in: bool = Field(False, description="write out/cut_review.mp4 with shot, takes and record timecode "
                                             "([edit] start_timecode) burnt in; also soundstage render --burn-in")
    first_frame: int = Field(0, ge=0, le=10_000_000, description="the number a shot's first frame has in the review "
                                                                 "app and in notes (1001 for VFX work)")
    statuses: dict[str, str] = Field(default_factory=dict, description="a shot status as this crew names it, e.g. "
                                                                       "wip = \"in progress\"; the statuses are "
                                                                       "waiting, wip, review, retake, approved, final")

    notify: NotifySettings = Field(default_factory=NotifySettings,
                                   description="webhooks and e-mail on takes, approvals, retakes and @mentions")

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(SHOT_STATUSES))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a status; the statuses are {', '.join(SHOT_STATUSES)}")
        if any(not name.strip() or len(name) > 40 for name in value.values()):
            raise ValueError("a status's name is 1 to 40 characters")
        return value


class ProvenanceSettings(BaseModel):
    """Who signs what soundstage writes: the project's own CA by default, or a studio's chain and key or KMS.

    Paths are inside the project or absolute; ``signer`` is ``module:function`` on the Python path, a function
    a studio writes that takes the bytes to sign and returns the signature, so the key never leaves its KMS.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

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


LOUDNESS_TARGET = re.compile(r"\s*(-\d+(?:\.\d+)?)\s*(LUFS|LKFS|dialogue-gated)\s*")


class SoundSettings(BaseModel):
    """``[sound]``: the mix's delivery loudness and what a shot without sound gets.

    ``target`` is a delivery spec's integrated loudness (ITU-R BS.1770): ``-23 LUFS`` (EBU R128),
    ``-24 LKFS`` (ATSC A/85) or ``-27 dialogue-gated`` (Netflix: measured over the dialogue only).
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    target: str = Field("-23 LUFS", description="-23 LUFS (EBU R128), -24 LKFS (ATSC A/85), -27 dialogue-gated")
    true_peak: float = Field(-1.0, ge=-9, le=0, description="ceiling, dBTP (4× oversampled), after normalising")
    missing: Literal["room-tone", "silence"] = Field(
        "room-tone", description="what a shot without production sound plays, so the cut has no holes")
    retime: Literal["resample", "refuse"] = Field(
        "resample", description="a retimed plate's sound: resampled to stay in sync, or the plate refused")
    fade: float = Field(10.0, ge=0, le=1000, description="ms of fade at every cut point, so no click")
    gain: dict[Literal["dialogue", "effects", "ambience"], Annotated[float, Field(ge=-60, le=12)]] = Field(
        default_factory=lambda: {"effects": -8.0, "ambience": -6.0},
        description="dB per stem for the whole film, under each shot's own: the dialogue leads the mix")
    min_confidence: float = Field(0.5, gt=0, le=1, description="a waveform sync below this is refused, not guessed")
    generate: bool = Field(True, description="sound takes for each element and each shot's ambience bed, from the "
                                             "shot's engine where it makes sound; false: the plates' sound only")

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if not LOUDNESS_TARGET.fullmatch(value):
            raise ValueError(f"{value!r} is not a loudness target like \"-23 LUFS\", \"-24 LKFS\" or "
                             "\"-27 dialogue-gated\"")
        return value

    @property
    def loudness(self) -> float:
        """The target's integrated loudness, LUFS (an LKFS is the same unit)."""
        match = LOUDNESS_TARGET.fullmatch(self.target)
        assert match is not None
        return float(match[1])

    @property
    def dialogue_gated(self) -> bool:
        return self.target.strip().endswith("dialogue-gated")


class ColourSettings(BaseModel):
    """``[colour]``: the comp in a scene-linear working space through OpenColorIO (ACES by default).

    Without a ``[colour]`` table a project comps 8-bit display RGB as before; with one, plates are decoded from
    their declared encoding, generated pictures enter through the inverse view, and EXR masters keep float.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    config: str = Field("ocio://studio-config-latest", description="an OCIO config: built in (ocio://…) or a "
                                                                   ".ocio file inside the project")
    working: str = Field("ACEScg", description="the scene-linear space the comp runs in")
    display: str = Field("Rec.1886 Rec.709 - Display", description="the display the review movies are for")
    view: str = Field("ACES 2.0 - SDR 100 nits (Rec.709)", description="the view transform to that display")
    generated: str = Field("sRGB - Display", description="the display generated pictures were made for: they "
                                                        "enter the working space through the view's inverse")
    deliver: list[Literal["rec709", "rec2100-pq", "rec2100-hlg"]] = Field(
        default_factory=lambda: ["rec709"], description="the delivery encodings of the review movie")

    @field_validator("deliver")
    @classmethod
    def _sdr_in_h264(cls, value: list[str]) -> list[str]:
        hdr = [name for name in value if name != "rec709"]
        if hdr:
            raise ValueError(f"{hdr[0]} is HDR, which the review movie's 8-bit H.264 cannot carry (PQ and HLG need "
                             "10 bits); deliver rec709, and grade HDR from the EXR masters")
        return value


class SubtitleSettings(BaseModel):
    """``[subtitles]``: the cut's subtitles (out/cut.srt, out/cut.vtt), timed to the speech in each shot."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    language: Literal["auto", "ko", "en"] = Field(
        "auto", description="whose line length and reading speed rule; auto: Korean when most of the dialogue is "
                            "Hangul, else English")
    burn_in: bool = Field(True, description="draw them on the review copy too, when it is made ([review] burn_in)")


class Settings(BaseModel):
    """``soundstage.toml``. Unknown keys are refused, so a typo never silently falls back to a default."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    title: str = Field(min_length=1)
    screenplay: str = Field(min_length=1, description="path of the .fountain or .fdx file, inside the project")
    fps: float = Field(24.0, gt=0, le=240)
    resolution: tuple[int, int] = (1920, 1080)
    engine: str = "procedural"
    seed: int = Field(1, ge=0)
    shot_duration: float = Field(4.0, gt=0, le=600, description="seconds, for shots that do not say")
    look: Look = Field(default_factory=Look)
    budget: Budget = Field(default_factory=Budget)
    comp: CompSettings = Field(default_factory=CompSettings)
    plates: PlateSettings = Field(default_factory=PlateSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    provenance: ProvenanceSettings = Field(default_factory=ProvenanceSettings)
    edit: EditSettings = Field(default_factory=EditSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    labels: LabelSettings = Field(default_factory=LabelSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    sound: SoundSettings = Field(default_factory=SoundSettings)
    subtitles: SubtitleSettings = Field(default_factory=SubtitleSettings)
    colour: ColourSettings | None = Field(None, description="[colour]: comp in a scene-linear working space")
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
