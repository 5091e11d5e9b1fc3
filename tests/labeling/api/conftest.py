"""Projects the API import tests upload into, and a media root of their own."""

import pytest

from tests.factories import ProjectFactory


@pytest.fixture
def records(staff):
    return ProjectFactory(created_by=staff, name="Same person?", data_type="record", classes=["1", "0"])


@pytest.fixture
def images(staff):
    return ProjectFactory(created_by=staff, name="Defects", data_type="image", classes=["dent", "none"])


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
