"""Images and audio: type from the bytes, safe decoding, thumbnails, waveform peaks and the
course's input-quality metrics (brightness, contrast, blur; levels, clipping, silence).

* Images: the pixel count is checked from the header before anything is decoded
  (decompression bombs never reach the decoder); EXIF orientation is applied; brightness,
  contrast and blur are measured on a copy at most ``METRIC_SIDE`` pixels on its long side,
  so figures are comparable across resolutions and a 50-megapixel photo costs what a small
  one does (JPEGs are decoded at reduced scale directly).
* Audio: decoded by libsndfile (soundfile) in blocks of ten seconds, so memory stays flat for
  long clips; silence is measured on 20 ms frames below ``SILENCE_DBFS``.
"""

import io
import json
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000  # decompression bombs are refused before a full decode
IMAGE_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp"}
AUDIO_FORMATS = {"WAV": ".wav", "WAVEX": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3"}
MAX_AUDIO_SECONDS = 60 * 60
THUMBNAIL = (320, 320)
METRIC_SIDE = 1024
PEAKS = 400
SILENCE_DBFS = -45.0
TARGET_RMS_DBFS = -20.0
EXIF_ORIENTATION = 0x0112


class RejectedMedia(ValueError):
    """The bytes are not an accepted image or audio file (the reason says why)."""


@dataclass
class ProcessedMedia:
    kind: str  # image | audio
    suffix: str
    quality: dict
    thumbnail: bytes | None = None
    waveform: bytes | None = None


def sanitize_filename(name: str) -> str:
    """The original name as harmless metadata: no path, no control characters, at most 200 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base.strip()[:200] or "unnamed"


def external_id_from_name(name: str) -> str:
    """A media item's id: its file name, with the folders it had inside a zip ("a/b.jpg"); each
    part cleaned like ``sanitize_filename``, no empty, "." or ".." parts, at most 255 chars."""
    parts = [sanitize_filename(p) for p in re.split(r"[\\/]", name or "") if p.strip() not in ("", ".", "..")]
    return "/".join(p for p in parts if p != "unnamed")[-255:] or "unnamed"


def numbered_name(name: str, n: int) -> str:
    """``name (n).ext``: the n-th file of that name in a project (n ≥ 2)."""
    folder, _, base = name.rpartition("/")
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem:
        stem, ext = base, ""
    numbered = f"{stem} ({n})" + (f".{ext}" if ext else "")
    return f"{folder}/{numbered}" if folder else numbered


def sniff(head: bytes) -> str | None:
    """'image', 'audio' or None, from the first bytes (never the name or Content-Type)."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if (head[:4] == b"RIFF" and head[8:12] == b"WAVE") or head.startswith((b"fLaC", b"OggS", b"ID3")):
        return "audio"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # an MPEG audio frame
        return "audio"
    return None


def _flags(checks: tuple[tuple[str, bool], ...]) -> list[str]:
    return [flag for flag, bad in checks if bad]


def process_image(content: bytes) -> ProcessedMedia:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:  # reads the header only
                fmt = probe.format
                if fmt not in IMAGE_FORMATS:
                    raise RejectedMedia(f"image format {fmt} is not accepted (JPEG, PNG, WebP)")
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise RejectedMedia(f"{width}×{height} pixels is over the {MAX_PIXELS:,} pixel limit")
                probe.verify()
            with Image.open(io.BytesIO(content)) as image:
                orientation = image.getexif().get(EXIF_ORIENTATION, 1)
                if fmt in ("JPEG", "MPO"):
                    image.draft("RGB", (METRIC_SIDE, METRIC_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RejectedMedia("the image would decode to too many pixels (decompression bomb)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        if isinstance(exc, RejectedMedia):
            raise
        raise RejectedMedia(f"the image is corrupt or truncated ({exc})") from exc
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    gray_image = upright.convert("L")
    if max(gray_image.size) > METRIC_SIDE:
        gray_image.thumbnail((METRIC_SIDE, METRIC_SIDE), Image.Resampling.BILINEAR)
    gray = np.asarray(gray_image, dtype=np.float32)
    laplacian = gray[1:-1, 1:-1] * -4 + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    figures = {
        "width": width,
        "height": height,
        "brightness": round(float(gray.mean(dtype=np.float64)), 2),
        "contrast": round(float(gray.std(dtype=np.float64)), 2),
        "blur": round(float(laplacian.var(dtype=np.float64)) if laplacian.size else 0.0, 2),
    }
    flags = _flags(
        (
            ("almost black", figures["brightness"] < 25),
            ("almost white", figures["brightness"] > 235),
            ("low contrast", figures["contrast"] < 8),
            ("blurry", figures["blur"] < 20),
        )
    )
    quality = {**figures, "flags": flags}
    thumb = upright.convert("RGB")
    thumb.thumbnail(THUMBNAIL)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=82)
    return ProcessedMedia("image", IMAGE_FORMATS[fmt], quality, thumbnail=buffer.getvalue())


def _dbfs(value: float) -> float:
    return round(20 * math.log10(max(value, 1e-10)), 2)


class _AudioAnalysis:
    """Streaming figures over blocks of samples: levels, clipping, 20 ms frame loudness, peaks."""

    def __init__(self, rate: int, frames: int):
        self.rate = rate
        self.window = max(1, rate // 50)
        self.peak_size = max(1, math.ceil(frames / PEAKS)) if frames > 0 else self.window
        self.peaks = np.zeros(max(1, math.ceil(frames / self.peak_size)) if frames > 0 else 1, np.float32)
        self.samples = 0
        self.values = 0
        self.clipped = 0
        self.peak = 0.0
        self.sum_squares = 0.0
        self.loud: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        mono = block.mean(axis=1, dtype=np.float32)
        absolute = np.abs(mono)
        n = len(mono)
        self.values += block.size
        self.clipped += int(np.count_nonzero(np.abs(block) >= 0.999))
        self.peak = max(self.peak, float(absolute.max()))
        self.sum_squares += float(np.dot(mono.astype(np.float64), mono.astype(np.float64)))
        full = n // self.window * self.window
        energy = []
        if full:
            energy.append((mono[:full].reshape(-1, self.window) ** 2).mean(axis=1))
        if full < n:
            energy.append(np.array([(mono[full:] ** 2).mean()], dtype=np.float32))
        rms = np.sqrt(np.concatenate(energy))
        self.loud.append(20 * np.log10(np.maximum(rms, 1e-10)) > SILENCE_DBFS)
        self._peaks(absolute)
        self.samples += n

    def _peaks(self, absolute: np.ndarray) -> None:
        start, size = self.samples, self.peak_size
        first, last = start // size, (start + len(absolute) - 1) // size
        if last >= len(self.peaks):  # the header under-reported the length: grow
            self.peaks = np.concatenate([self.peaks, np.zeros(last + 1 - len(self.peaks), np.float32)])
        cuts = np.arange(first + 1, last + 1) * size - start
        maxima = np.maximum.reduceat(absolute, np.concatenate([[0], cuts]).astype(np.int64))
        self.peaks[first : last + 1] = np.maximum(self.peaks[first : last + 1], maxima)

    def result(self, channels: int) -> tuple[dict, bytes]:
        duration = self.samples / self.rate
        loud = np.concatenate(self.loud) if self.loud else np.zeros(0, bool)
        frame = self.window / self.rate
        if loud.any():
            leading = int(np.argmax(loud)) * frame
            trailing = int(np.argmax(loud[::-1])) * frame
        else:
            leading = trailing = duration
        rms = math.sqrt(self.sum_squares / self.samples)
        figures = {
            "duration": round(duration, 3),
            "sample_rate": self.rate,
            "channels": channels,
            "peak_dbfs": _dbfs(self.peak),
            "rms_dbfs": _dbfs(rms),
            "clipping_ratio": round(self.clipped / self.values, 5),
            "leading_silence": round(min(leading, duration), 3),
            "trailing_silence": round(min(trailing, duration), 3),
        }
        # The course's "how to normalize volume?": the gain that brings the RMS to -20 dBFS.
        figures["gain_to_normalize_db"] = round(TARGET_RMS_DBFS - figures["rms_dbfs"], 2)
        silent = (figures["leading_silence"] + figures["trailing_silence"]) / duration if duration else 1
        flags = _flags(
            (
                ("mostly silence", silent > 0.8 or not loud.any()),
                ("clipping", figures["clipping_ratio"] > 0.001),
                ("very quiet", figures["rms_dbfs"] < -40),
            )
        )
        quality = {**figures, "flags": flags}
        peaks = self.peaks[: max(1, math.ceil(self.samples / self.peak_size))]
        top = float(peaks.max()) or 1.0
        waveform = {
            "peaks": [round(float(p) / top, 3) for p in peaks],
            "duration": duration,
            "sample_rate": self.rate,
        }
        return quality, json.dumps(waveform).encode()


def process_audio(content: bytes) -> ProcessedMedia:
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(content)) as sound:
            fmt, rate, channels, frames = sound.format, sound.samplerate, sound.channels, sound.frames
            if fmt not in AUDIO_FORMATS:
                raise RejectedMedia(f"audio format {fmt} is not accepted (WAV, FLAC, OGG, MP3)")
            if rate <= 0 or channels <= 0:
                raise RejectedMedia("the audio header has no sample rate or channels")
            if frames > rate * MAX_AUDIO_SECONDS:
                raise RejectedMedia("audio longer than one hour is not accepted")
            analysis = _AudioAnalysis(rate, frames)
            block = analysis.window * 500  # ten seconds, a whole number of 20 ms frames
            for samples in sound.blocks(blocksize=block, dtype="float32", always_2d=True):
                if len(samples):
                    analysis.add(samples)
                if analysis.samples > rate * MAX_AUDIO_SECONDS:
                    raise RejectedMedia("audio longer than one hour is not accepted")
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        if isinstance(exc, RejectedMedia):
            raise
        raise RejectedMedia(f"not a decodable audio file ({exc})") from exc
    if analysis.samples == 0:
        raise RejectedMedia("the audio file has no samples")
    quality, waveform = analysis.result(channels)
    return ProcessedMedia("audio", AUDIO_FORMATS[fmt], quality, waveform=waveform)


def process_media(content: bytes) -> ProcessedMedia:
    kind = sniff(content[:16])
    if kind == "image":
        return process_image(content)
    if kind == "audio":
        return process_audio(content)
    raise RejectedMedia("not an accepted image (JPEG, PNG, WebP) or audio (WAV, FLAC, OGG, MP3) file")
