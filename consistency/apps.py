from django.apps import AppConfig


class ConsistencyConfig(AppConfig):
    name = "consistency"
    verbose_name = "Consistency"
    default_auto_field = "django.db.models.BigAutoField"
