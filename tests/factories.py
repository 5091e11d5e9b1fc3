import factory
from django.contrib.auth import get_user_model

from labeling.models import DataType, Item, LabelKind, Project, ProjectMembership, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    """A classes project created through the service, so it has its schema v1 and a manager."""

    class Meta:
        model = Project

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from labeling.services.projects import project_create

        created_by = kwargs.pop("created_by", None) or UserFactory(is_staff=True)
        kwargs.setdefault("name", "Phone defects")
        kwargs.setdefault("data_type", DataType.IMAGE)
        kwargs.setdefault("label_kind", LabelKind.CLASSES)
        kwargs.setdefault("classes", ["deep scratch", "shallow scratch", "dent", "none"])
        return project_create(created_by=created_by, **kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.LABELER


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    kind = factory.LazyAttribute(lambda item: item.project.data_type)
    external_id = factory.Sequence(lambda n: f"item-{n}")
    target = factory.LazyAttribute(lambda item: item.project.initial_target)
    metadata = factory.LazyFunction(lambda: {"factory": "A"})


def finished_run(project, results: list[dict], *, consensus: str = "majority"):
    """A SUCCEEDED agreement run with the given per-item results (item, consensus, …)."""
    from django.utils import timezone

    from consistency.models import AgreementRun, ItemResult

    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        params={"consensus": consensus},
        report={"overall": {"alpha": 0.5}},
        headline_alpha=0.5,
        finished_at=timezone.now(),
        started_at=timezone.now(),
    )
    ItemResult.objects.bulk_create(
        ItemResult(
            run=run,
            item=r["item"],
            n_answers=r.get("n_answers", 3),
            consensus=r.get("consensus"),
            method=r.get("method", consensus),
            confidence=r.get("confidence", 1.0),
            agreement=r.get("agreement", 1.0),
            is_tie=r.get("is_tie", False),
            by_method=r.get("by_method", {}),
        )
        for r in results
    )
    return run
