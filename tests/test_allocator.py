"""The worker's allocator setting (core/memory.py): applied on glibc, wired to the worker's start."""

import platform

from celery.signals import worker_init

from config import celery as celery_config
from core.memory import allocator_tune


def test_the_mmap_threshold_is_fixed_on_glibc():
    assert platform.libc_ver()[0] == "glibc"  # the images and CI machines run Debian
    assert allocator_tune() is True


def test_a_starting_worker_tunes_its_allocator():
    receivers = [ref() if callable(ref) else ref for _, ref in worker_init.receivers]
    assert celery_config._allocator_tune in receivers
