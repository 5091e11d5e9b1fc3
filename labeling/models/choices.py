from django.db import models


class SkipReason(models.TextChoices):
    LACKS_INFORMATION = "lacks_information", "The data lacks the information to decide"
    BROKEN_MEDIA = "broken_media", "The file is broken, empty or does not play"
    UNCLEAR_DEFINITION = "unclear_definition", "The label definitions do not cover this case"
    OTHER = "other", "Other (say why in the comment)"


class JobKind(models.TextChoices):
    """Labeling's background job kinds (registered with core's job runner in ``labeling.apps``)."""

    PROJECT_STATS = "project_stats", "Project statistics refresh"
    IMPORT_ITEMS = "import_items", "Item import"
    IMPORT_ANNOTATIONS = "import_annotations", "Annotation import"
