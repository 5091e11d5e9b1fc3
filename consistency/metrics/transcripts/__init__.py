"""Transcripts: standardization rules, WER/CER agreement and alpha, the medoid, word-accuracy HLP."""
