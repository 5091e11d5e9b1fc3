"""Forms of the manager pages: they parse and type what was posted; the services decide."""

from django import forms

from labeling.models import ConsensusMethod, DataType, LabelKind, OverlapPolicy, Role
from labeling.selectors.projects import ALARM_NAMES, DEFAULT_ALARMS
from labeling.services.projects import MAX_OVERLAP

CLASS_FIELDS = ("name", "description", "color", "hotkey")
ALARM_LABELS = {
    "agreement_drop": "Alarm when alpha drops by more than",
    "min_labeler_hlp": "Alarm when a labeler's HLP is under",
    "max_skip_rate": "Alarm when the skip rate is over",
}


def class_rows(post) -> list[dict]:
    """The class rows of a form (``class_name``, ``class_description``… repeated), blank rows
    left out."""
    columns = {f: post.getlist(f"class_{f}") for f in CLASS_FIELDS}
    count = len(columns["name"])
    rows = [{f: (columns[f][i] if i < len(columns[f]) else "") for f in CLASS_FIELDS} for i in range(count)]
    return [r for r in rows if any(str(r[f]).strip() for f in ("name", "description", "hotkey"))]


class SettingsForm(forms.Form):
    """The settings a manager changes at any time (``project_update``)."""

    name = forms.CharField(max_length=200)
    overlap = forms.IntegerField(min_value=1, max_value=MAX_OVERLAP, label="Overlap k (answers per item)")
    overlap_policy = forms.ChoiceField(choices=OverlapPolicy.choices, label="Overlap policy")
    min_answers = forms.IntegerField(min_value=1, label="Adaptive: answers every item gets first")
    max_answers = forms.IntegerField(min_value=1, label="Adaptive: at most this many answers")
    target_confidence = forms.FloatField(label="Adaptive: stop once the leading class's posterior reaches")
    gold_rate = forms.FloatField(min_value=0, max_value=1, label="Gold share of a labeler's stream (0 to 1)")
    consensus_method = forms.ChoiceField(choices=ConsensusMethod.choices, label="Consensus method")
    lease_seconds = forms.IntegerField(
        min_value=10, max_value=86_400, label="Lease: seconds a reserved item stays with a labeler"
    )
    auto_run_every = forms.IntegerField(
        min_value=0, max_value=10_000_000, label="Start an agreement run every N new answers (0: off)"
    )
    agreement_drop = forms.FloatField(min_value=0, max_value=1, label=ALARM_LABELS["agreement_drop"])
    min_labeler_hlp = forms.FloatField(min_value=0, max_value=1, label=ALARM_LABELS["min_labeler_hlp"])
    max_skip_rate = forms.FloatField(min_value=0, max_value=1, label=ALARM_LABELS["max_skip_rate"])

    @classmethod
    def initial_for(cls, project) -> dict:
        initial = {f: getattr(project, f) for f in cls.base_fields if f not in ALARM_NAMES}
        return {**initial, **DEFAULT_ALARMS, **(project.alarms or {})}

    def changes(self) -> dict:
        """The cleaned fields as ``project_update`` keyword arguments (alarms grouped)."""
        data = dict(self.cleaned_data)
        data["alarms"] = {name: data.pop(name) for name in ALARM_NAMES}
        return data


class AlarmsForm(forms.Form):
    agreement_drop = SettingsForm.base_fields["agreement_drop"]
    min_labeler_hlp = SettingsForm.base_fields["min_labeler_hlp"]
    max_skip_rate = SettingsForm.base_fields["max_skip_rate"]


class NewProjectForm(forms.Form):
    """What ``project_create`` needs; the rest of the settings come after, on the settings page."""

    name = forms.CharField(max_length=200)
    data_type = forms.ChoiceField(choices=DataType.choices, label="Data type")
    label_kind = forms.ChoiceField(choices=LabelKind.choices, label="Label kind")
    overlap = forms.IntegerField(min_value=1, max_value=MAX_OVERLAP, initial=3, label="Overlap k")
    consensus_method = forms.ChoiceField(choices=ConsensusMethod.choices, label="Consensus method")
    instructions = forms.CharField(
        required=False, max_length=100_000, widget=forms.Textarea(attrs={"rows": 8})
    )


class MemberForm(forms.Form):
    who = forms.CharField(max_length=254, label="Username or e-mail")
    role = forms.ChoiceField(choices=Role.choices)


class NewUserForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False, label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, label="Role in this project")
    how = forms.ChoiceField(
        choices=[
            ("password", "A password, shown once"),
            ("invite", "An invite link to set a password (works once)"),
        ],
        label="How they sign in",
    )
