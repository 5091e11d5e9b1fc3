from django.apps import AppConfig


class ConsistencyConfig(AppConfig):
    name = "consistency"
    verbose_name = "Consistency"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Pre-labels in the labeling workspace come from this app's model predictions.
        from consistency.selectors.prelabels import prediction_suggestion
        from labeling.services.prelabels import prelabel_source_register

        prelabel_source_register(prediction_suggestion)
