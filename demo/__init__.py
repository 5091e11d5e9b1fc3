"""The demo app: `manage.py demo` (management/commands/demo.py) seeds four course projects
(services.py) from the generators beside it: phone-surface images and boxes, speech clips,
user-record pairs.

Deterministic for a seed; nothing is downloaded (images are drawn with Pillow, speech clips
were synthesized with espeak-ng by make_speech.py and committed as small FLAC files).
"""
