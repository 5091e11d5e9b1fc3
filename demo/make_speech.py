"""Synthesize the demo speech clips (run once by a developer; the outputs are committed).

    apt-get install espeak-ng && .venv/bin/python demo/make_speech.py

Each utterance from the course's speech example is spoken by espeak-ng with a voice and speed,
optional background noise is mixed in (car: low-passed noise; cafe: band noise with babble-like
bursts), then the clip is resampled to 16 kHz mono and written as 16-bit FLAC with a manifest.
"""

import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

OUT = Path(__file__).resolve().parent / "speech"
RATE = 16_000
CLIPS = [
    ("clip-01", "Um, nearest gas station", "en-us", 150, "none"),
    ("clip-02", "Umm, nearest gas station", "en-gb", 140, "car"),
    ("clip-03", "nearest gas station", "en-us", 170, "cafe"),
    ("clip-04", "Um, nearest coffee shop", "en-gb-scotland", 150, "none"),
    ("clip-05", "What is the weather tomorrow", "en-us", 160, "car"),
    ("clip-06", "Call mom", "en-029", 140, "none"),
    ("clip-07", "Play some jazz", "en-gb", 165, "cafe"),
    ("clip-08", "Set a timer for ten minutes", "en-us", 150, "none"),
    ("clip-09", "Um... directions to the nearest gas station", "en-gb-x-rp", 155, "car"),
    ("clip-10", "Navigate home", "en-us", 175, "cafe"),
]


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.normal(0, 1, n)
    if kind == "car":  # rumble: a running mean is a crude low-pass
        kernel = np.ones(64) / 64
        return np.convolve(white, kernel, mode="same") * 0.6
    bursts = (np.sin(np.linspace(0, 40 * np.pi, n)) > 0.6).astype(float)
    return white * 0.25 * (0.5 + bursts)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    manifest = []
    for name, text, voice, speed, noise in CLIPS:
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", wav.name, text], check=True)
            audio, rate = sf.read(wav.name, dtype="float64")
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        positions = np.linspace(0, len(audio) - 1, int(len(audio) * RATE / rate))
        audio = np.interp(positions, np.arange(len(audio)), audio)
        audio = np.concatenate([np.zeros(int(0.25 * RATE)), audio, np.zeros(int(0.3 * RATE))])
        if noise != "none":
            audio = audio + 0.04 * _noise(noise, len(audio), rng)
        audio = 0.8 * audio / max(1e-9, np.abs(audio).max())
        path = OUT / f"{name}.flac"
        sf.write(path, audio, RATE, subtype="PCM_16")
        manifest.append(
            {
                "file": path.name,
                "transcript": text,
                "metadata": {"noise": noise, "voice": voice, "speed": speed},
            }
        )
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
