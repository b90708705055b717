"""Reading a screenplay file into text, refusing what is not a screenplay before any parsing starts.

A 120-page script is about 200 KB, so anything over :data:`MAX_BYTES` is refused from its size alone,
without reading it. Text is tried as UTF-8 (with or without a byte-order mark), then as CP949, the legacy
Korean Windows encoding (a superset of EUC-KR) that many Korean scripts are still saved in; UTF-16 with a
byte-order mark (Windows Notepad's "Unicode") is read too. Anything else is refused with a hint to save the
file as UTF-8, rather than guessed at and shown as mojibake.
"""

from __future__ import annotations

import re
from pathlib import Path

from soundstage.errors import ScreenplayError

__all__ = ["MAX_BYTES", "decode", "normalise_newlines", "read_bytes", "read_text"]

MAX_BYTES = 10 * 1024 * 1024

# C0 control characters other than tab, newline, form feed and carriage return never occur in a script.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SAVE_AS_UTF8 = "save it as UTF-8 text (.fountain) or export it from Final Draft as .fdx"


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, refusing a missing, empty or oversized file (the size is checked before reading)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ScreenplayError("is a folder, not a screenplay file", path=path)
        if size > MAX_BYTES:
            raise ScreenplayError(f"is {_megabytes(size)}; screenplays over {_megabytes(MAX_BYTES)} are refused",
                                  path=path, hint="a 120-page script is about 200 KB; is this the right file?")
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)   # a file that grows (or a device) still stops at the limit
    except FileNotFoundError:
        raise ScreenplayError("does not exist", path=path) from None
    except PermissionError:
        raise ScreenplayError("cannot be read (permission denied)", path=path) from None
    except OSError as error:
        raise ScreenplayError(f"cannot be read: {error.strerror or error}", path=path) from None
    if len(data) > MAX_BYTES:
        raise ScreenplayError(f"is over {_megabytes(MAX_BYTES)}; screenplays that large are refused", path=path)
    if not data.strip():
        raise ScreenplayError("is empty", path=path, hint="write the screenplay in it first")
    return data


def decode(data: bytes, path: str | Path | None = None) -> tuple[str, str]:
    """(text, encoding) for a screenplay's bytes: ``utf-8``, ``utf-8-sig``, ``utf-16`` or ``cp949``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in data:
        raise ScreenplayError("is a binary file, not a screenplay (it contains NUL bytes)", path=path,
                              hint=_SAVE_AS_UTF8)
    else:
        candidates = ("utf-8-sig", "cp949")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        control = _CONTROL.search(text)
        if control:
            line = text.count("\n", 0, control.start()) + 1
            raise ScreenplayError(f"is a binary file, not a screenplay (control character "
                                  f"{ord(control.group()):#04x})", path=path, line=line, hint=_SAVE_AS_UTF8)
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise ScreenplayError("is neither UTF-8 nor Korean CP949/EUC-KR text (a binary file?)", path=path,
                          hint=_SAVE_AS_UTF8)


def normalise_newlines(text: str) -> str:
    """Windows (``\\r\\n``) and old Mac (``\\r``) line ends become ``\\n``; a leading byte-order mark goes."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\ufeff")


def read_text(path: str | Path) -> tuple[str, str]:
    """(text with ``\\n`` line ends, encoding it was read as) of a screenplay file."""
    text, encoding = decode(read_bytes(path), path)
    return normalise_newlines(text), encoding


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size % (1024 * 1024) else f"{size // (1024 * 1024)} MB"
