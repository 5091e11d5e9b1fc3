"""The committed demo speech clips (see make_speech.py for how they were made)."""

import json
from pathlib import Path

SPEECH = Path(__file__).resolve().parent / "speech"


def speech_clips() -> list[dict]:
    """[{external_id, path, transcript, metadata}] in manifest order."""
    manifest = json.loads((SPEECH / "manifest.json").read_text())
    return [
        {
            "external_id": Path(e["file"]).stem,
            "path": SPEECH / e["file"],
            "transcript": e["transcript"],
            "metadata": e["metadata"],
        }
        for e in manifest
    ]
