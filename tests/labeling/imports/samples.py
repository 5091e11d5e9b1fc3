"""Media and files generated in the tests, with known properties."""

import io
import zipfile

import numpy as np
import soundfile as sf
from PIL import Image


def png(size=(64, 48), color=(128, 128, 128)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg(pixels: np.ndarray, **save) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", **save)
    return out.getvalue()


def checkerboard(size: int = 256, square: int = 8) -> np.ndarray:
    y, x = np.indices((size, size))
    return ((((x // square) + (y // square)) % 2) * 255).astype(np.uint8)


def tone(seconds: float, rate: int = 16000, amplitude: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def audio(signal: np.ndarray, rate: int = 16000, fmt: str = "WAV", subtype=None) -> bytes:
    out = io.BytesIO()
    sf.write(out, signal, rate, format=fmt, subtype=subtype)
    return out.getvalue()


def clip(lead: float = 1.0, body: float = 1.0, tail: float = 0.0, rate: int = 16000, **kw) -> bytes:
    """Silence, a 440 Hz tone at half scale, silence."""
    signal = np.concatenate([np.zeros(int(lead * rate)), tone(body, rate), np.zeros(int(tail * rate))])
    return audio(signal, rate, **kw)


def zip_of(entries: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        for name in links:  # a symbolic link entry (Unix mode 0o120777)
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def named(name: str, content: bytes) -> io.BytesIO:
    f = io.BytesIO(content)
    f.name = name
    return f
