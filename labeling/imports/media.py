"""Images and audio: type from the bytes, safe decoding, thumbnails, waveform peaks and the
course's input-quality metrics (brightness, contrast, blur; levels, clipping, silence)."""

import io
import json
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 50_000_000  # decompression bombs are refused before a full decode
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
AUDIO_FORMATS = {"WAV": ".wav", "FLAC": ".flac", "OGG": ".ogg", "MP3": ".mp3"}
THUMBNAIL = (320, 320)
PEAKS = 400
SILENCE_DBFS = -45.0


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


def process_image(content: bytes) -> ProcessedMedia:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(content)) as probe:
            fmt = probe.format
            if fmt not in IMAGE_FORMATS:
                raise RejectedMedia(f"image format {fmt} is not accepted (JPEG, PNG, WebP)")
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise RejectedMedia(f"{width}×{height} pixels is over the {MAX_PIXELS:,} pixel limit")
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
    except Image.DecompressionBombError as exc:
        raise RejectedMedia("the image would decode to too many pixels (decompression bomb)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise RejectedMedia(f"the image is corrupt or truncated ({exc})") from exc
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = gray[1:-1, 1:-1] * -4 + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    quality = {
        "width": image.width,
        "height": image.height,
        "brightness": round(float(gray.mean()), 2),
        "contrast": round(float(gray.std()), 2),
        "blur": round(float(laplacian.var()) if laplacian.size else 0.0, 2),
    }
    quality["flags"] = [
        flag
        for flag, bad in (
            ("almost black", quality["brightness"] < 25),
            ("almost white", quality["brightness"] > 235),
            ("low contrast", quality["contrast"] < 8),
            ("blurry", quality["blur"] < 20),
        )
        if bad
    ]
    thumb = image.convert("RGB")
    thumb.thumbnail(THUMBNAIL)
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=82)
    return ProcessedMedia("image", IMAGE_FORMATS[fmt], quality, thumbnail=buffer.getvalue())


def _dbfs(value: float) -> float:
    return round(20 * np.log10(max(value, 1e-10)), 2)


def process_audio(content: bytes) -> ProcessedMedia:
    import soundfile as sf

    try:
        with sf.SoundFile(io.BytesIO(content)) as sound:
            fmt = sound.format
            rate, channels, frames = sound.samplerate, sound.channels, sound.frames
            if frames > rate * 60 * 60:
                raise RejectedMedia("audio longer than one hour is not accepted")
            samples = sound.read(dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise RejectedMedia(f"not a decodable audio file ({exc})") from exc
    if fmt not in AUDIO_FORMATS:
        raise RejectedMedia(f"audio format {fmt} is not accepted (WAV, FLAC, OGG, MP3)")
    if len(samples) == 0:
        raise RejectedMedia("the audio file has no samples")
    mono = samples.mean(axis=1)
    absolute = np.abs(mono)
    window = max(1, rate // 50)  # 20 ms frames for silence detection
    usable = len(absolute) // window * window
    frame_rms = np.sqrt((mono[:usable].reshape(-1, window) ** 2).mean(axis=1)) if usable else np.array([0.0])
    loud = 20 * np.log10(np.maximum(frame_rms, 1e-10)) > SILENCE_DBFS
    leading = (np.argmax(loud) if loud.any() else len(loud)) * window / rate
    trailing = (np.argmax(loud[::-1]) if loud.any() else len(loud)) * window / rate
    duration = len(mono) / rate
    quality = {
        "duration": round(duration, 3),
        "sample_rate": rate,
        "channels": channels,
        "peak_dbfs": _dbfs(float(absolute.max())),
        "rms_dbfs": _dbfs(float(np.sqrt((mono**2).mean()))),
        "clipping_ratio": round(float((np.abs(samples) >= 0.999).mean()), 5),
        "leading_silence": round(float(min(leading, duration)), 3),
        "trailing_silence": round(float(min(trailing, duration)), 3),
    }
    silent_share = (quality["leading_silence"] + quality["trailing_silence"]) / duration if duration else 1
    quality["flags"] = [
        flag
        for flag, bad in (
            ("mostly silence", silent_share > 0.8 or not loud.any()),
            ("clipping", quality["clipping_ratio"] > 0.001),
            ("very quiet", quality["rms_dbfs"] < -40),
        )
        if bad
    ]
    buckets = np.array_split(absolute, min(PEAKS, len(absolute)))
    peaks = np.array([b.max() for b in buckets])
    top = peaks.max() or 1.0
    waveform = json.dumps(
        {"peaks": [round(float(p / top), 3) for p in peaks], "duration": duration, "sample_rate": rate}
    )
    return ProcessedMedia("audio", AUDIO_FORMATS[fmt], quality, waveform=waveform.encode())


def process_media(content: bytes) -> ProcessedMedia:
    kind = sniff(content[:16])
    if kind == "image":
        return process_image(content)
    if kind == "audio":
        return process_audio(content)
    raise RejectedMedia("not an accepted image (JPEG, PNG, WebP) or audio (WAV, FLAC, OGG, MP3) file")
