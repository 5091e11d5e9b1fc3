"""Generators behind `manage.py demo`: phone-surface images, speech clips, user-record pairs.

Deterministic for a seed; nothing is downloaded (images are drawn with Pillow, speech clips
were synthesized with espeak-ng by make_speech.py and committed as small FLAC files).
"""
