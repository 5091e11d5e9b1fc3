from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data only: no models, no URLs; it provides `manage.py demo`."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = "Demo data"
