"""Bounding boxes: IoU agreement and alpha, fused consensus boxes, F1 HLP."""
