"""Media decoding and the input-quality metrics on generated images and clips with known
properties (no database)."""

import io
import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFilter

from labeling.imports import media
from labeling.imports.media import RejectedMedia, process_media, sanitize_filename, sniff
from tests.labeling.imports.samples import audio, checkerboard, clip, jpeg, png, tone


def test_one_second_of_leading_silence_reports_about_one_second():
    quality = process_media(clip(lead=1.0, body=2.0, tail=0.5)).quality
    assert quality["duration"] == pytest.approx(3.5, abs=0.01)
    assert quality["leading_silence"] == pytest.approx(1.0, abs=0.03)
    assert quality["trailing_silence"] == pytest.approx(0.5, abs=0.03)
    assert quality["sample_rate"] == 16000 and quality["channels"] == 1
    assert quality["flags"] == []


def test_levels_of_a_half_scale_sine_and_the_gain_to_normalize():
    quality = process_media(audio(tone(2.0))).quality
    assert quality["peak_dbfs"] == pytest.approx(-6.02, abs=0.05)
    assert quality["rms_dbfs"] == pytest.approx(-9.03, abs=0.05)  # 0.5 / sqrt(2)
    assert quality["gain_to_normalize_db"] == pytest.approx(-20 + 9.03, abs=0.05)
    assert quality["clipping_ratio"] == 0


def test_clipping_and_mostly_silent_and_quiet_clips_are_flagged():
    square = np.sign(tone(1.0))
    assert process_media(audio(square, subtype="FLOAT")).quality["clipping_ratio"] > 0.9
    assert "clipping" in process_media(audio(square, subtype="FLOAT")).quality["flags"]
    assert "mostly silence" in process_media(clip(lead=9.0, body=1.0)).quality["flags"]
    quiet = process_media(audio(tone(1.0, amplitude=0.005))).quality
    assert quiet["rms_dbfs"] < -40 and "very quiet" in quiet["flags"]
    silent = process_media(audio(np.zeros(16000))).quality
    assert silent["leading_silence"] == pytest.approx(1.0) and "mostly silence" in silent["flags"]


@pytest.mark.parametrize(
    ("fmt", "channels", "suffix"),
    [("WAV", 1, ".wav"), ("WAV", 3, ".wav"), ("FLAC", 2, ".flac"), ("OGG", 1, ".ogg"), ("MP3", 1, ".mp3")],
)
def test_audio_formats_decode_with_duration_rate_and_channels(fmt, channels, suffix):
    signal = np.concatenate([np.zeros(16000), tone(1.0)])
    if channels > 1:
        signal = np.stack([signal] * channels, axis=1)
    processed = process_media(audio(signal, fmt=fmt))
    assert processed.kind == "audio" and processed.suffix == suffix
    assert processed.quality["channels"] == channels
    assert processed.quality["duration"] == pytest.approx(2.0, abs=0.06)
    assert processed.quality["leading_silence"] == pytest.approx(1.0, abs=0.06)


def test_waveform_peaks_are_normalized_and_follow_the_clip():
    waveform = json.loads(process_media(clip(lead=1.0, body=1.0)).waveform)
    peaks = waveform["peaks"]
    assert len(peaks) == 400 and max(peaks) == 1.0
    assert peaks[0] == 0.0 and min(peaks[250:]) > 0.9
    assert waveform["duration"] == pytest.approx(2.0)


def test_long_and_corrupt_audio_is_rejected(monkeypatch):
    with pytest.raises(RejectedMedia, match="not a decodable audio file"):
        process_media(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    wav = clip(lead=0.0, body=2.0)
    with pytest.raises(RejectedMedia):
        process_media(wav[:30])  # the header breaks off
    monkeypatch.setattr(media, "MAX_AUDIO_SECONDS", 1)
    with pytest.raises(RejectedMedia, match="longer than one hour"):
        process_media(wav)


def test_image_figures_on_known_images():
    flat = process_media(png(color=(200, 200, 200))).quality
    assert flat["width"] == 64 and flat["height"] == 48
    assert flat["brightness"] == pytest.approx(200, abs=0.5) and flat["contrast"] == 0
    assert {"low contrast", "blurry"} <= set(flat["flags"])
    assert "almost black" in process_media(png(color=(5, 5, 5))).quality["flags"]
    board = checkerboard()
    sharp = process_media(jpeg(np.stack([board] * 3, axis=2), quality=95)).quality
    blurred_image = Image.fromarray(board).filter(ImageFilter.GaussianBlur(4)).convert("RGB")
    blurred = process_media(jpeg(np.asarray(blurred_image), quality=95)).quality
    assert sharp["brightness"] == pytest.approx(127.5, abs=2)
    assert sharp["contrast"] == pytest.approx(127.5, abs=3)
    assert sharp["blur"] > 20 * blurred["blur"] and "blurry" not in sharp["flags"]


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (200, 100), (90, 90, 90))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    processed = process_media(out.getvalue())
    assert (processed.quality["width"], processed.quality["height"]) == (100, 200)
    thumb = Image.open(io.BytesIO(processed.thumbnail))
    assert thumb.height > thumb.width and max(thumb.size) <= 320


def test_large_photos_are_measured_on_a_reduced_copy_and_keep_their_size():
    pixels = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    processed = process_media(jpeg(pixels))
    assert (processed.quality["width"], processed.quality["height"]) == (4000, 3000)
    assert max(Image.open(io.BytesIO(processed.thumbnail)).size) == 320


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and carries almost no data (a pixel flood)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_pixel_floods_are_refused_before_decoding():
    with pytest.raises(RejectedMedia, match="pixel"):
        process_media(_png_header_only(60_000, 60_000))  # 3.6 gigapixels claimed in 60 bytes
    with pytest.raises(RejectedMedia, match="pixel limit"):
        process_media(_png_header_only(8_000, 7_000))  # 56 MP: over our 50 MP limit, under Pillow's
    flood = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(flood, "PNG")  # 100 MP that compress to a few kB
    with pytest.raises(RejectedMedia, match="pixel"):
        process_media(flood.getvalue())


def test_corrupt_fake_and_unaccepted_images_are_rejected():
    photo = jpeg(np.full((64, 64, 3), 120, dtype=np.uint8))
    with pytest.raises(RejectedMedia, match="corrupt or truncated"):
        process_media(photo[: len(photo) // 2])
    with pytest.raises(RejectedMedia, match="not an accepted"):
        process_media(b"<html><script>alert(1)</script></html>")
    with pytest.raises(RejectedMedia, match="not an accepted"):
        process_media(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    with pytest.raises(RejectedMedia, match="not an accepted"):
        process_media(gif.getvalue())


def test_type_comes_from_the_bytes():
    assert sniff(png()[:16]) == "image"
    assert sniff(clip()[:16]) == "audio"
    assert sniff(b"%PDF-1.7\n") is None and sniff(b"PK\x03\x04") is None


def test_original_file_names_become_harmless_metadata():
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("C:\\photos\\a<b>.jpg") == "ab.jpg"
    assert sanitize_filename("bad\x00\x1bname.png") == "badname.png"
    assert sanitize_filename("") == "unnamed"
    assert len(sanitize_filename("x" * 500)) == 200
