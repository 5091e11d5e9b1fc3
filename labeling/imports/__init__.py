"""Bringing data in: record parsers, media processing with quality metrics, safe archives,
and Label Studio's export format."""
