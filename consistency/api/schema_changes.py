from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from consistency.selectors.schema import schema_history
from consistency.selectors.schema_suggestions import schema_suggestions
from consistency.services.schema_changes import OPS, schema_change_apply
from core.audit.models import AuditEvent
from core.errors import Invalid
from labeling.selectors.projects import MANAGER_ROLES, REVIEW_ROLES, project_get_for_member

SCHEMA_CHANGE_DOC = """Change the label schema (managers). Body: `op` plus its fields, `dry_run`, `note`:

* `{"op": "merge", "classes": ["deep scratch", "shallow scratch"], "into": "scratch", "instructions": "…"}`
* `{"op": "add_class", "name": "borderline", "requeue_split": true}`
* `{"op": "rename", "from": "0", "to": "different people"}`
* `{"op": "split", "class": "scratch", "into": ["deep", "shallow"], "keep_instructions": true}`
  (items labeled with the class are re-queued; their answers, gold and resolutions of the class no
  longer count)

A merge or a split changes what the classes mean: applying one needs the new `instructions`
(markdown) or `"keep_instructions": true`, else 400.
* `{"op": "edit_instructions", "instructions": "markdown…"}`
* `{"op": "standardize_transcripts", "rules": [{"pattern": "Umm", "replacement": "Um", "regex": false}]}`
  (a rule ignores case unless `"case_sensitive": true`, so this one also changes "umm"; with
  `"regex": true` the pattern is RE2 syntax, matched in linear time: backreferences and lookaround
  are refused with a 400 naming the rule, and the replacement may use `\\1` or `\\g<name>` for
  groups the pattern has)

`dry_run: true` (the default) writes nothing and answers `before` / `after` agreement on the
existing answers (with 95% intervals) and the items that would be re-queued. With `dry_run:
false` a new schema version is published (old answers are mapped when read, never rewritten),
items are re-queued, an agreement run starts, and the change is in the audit log; `note` (why)
is required then.
"""


class SchemaChangeApi(APIView):
    class InputSerializer(serializers.Serializer):
        op = serializers.ChoiceField(choices=OPS)
        dry_run = serializers.BooleanField(default=True)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)

    @extend_schema(
        request={"application/json": {"type": "object"}},
        description=SCHEMA_CHANGE_DOC,
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT},
        summary="Preview or apply a schema change",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
        if not isinstance(request.data, dict):
            raise Invalid("Send a JSON object.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = {k: v for k, v in request.data.items() if k not in ("op", "dry_run", "note")}
        result = schema_change_apply(
            project=project, params=params, actor=request.user, **data.validated_data
        )
        return Response(result, status=200 if result["dry_run"] else 201)

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Schema change history and suggestions (merge candidates, split items)",
    )
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        return Response(
            {"history": schema_history(project=project), "suggestions": schema_suggestions(project=project)}
        )


class AuditLogApi(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The project's audit log (managers)")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
        events = AuditEvent.objects.filter(project=project).select_related("actor")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(events, request, view=self)
        assert page is not None  # PAGE_SIZE is set: LimitOffsetPagination always pages
        rows = [
            {
                "action": e.action,
                "actor": e.actor.username if e.actor else None,
                "target": e.target,
                "before": e.before,
                "after": e.after,
                "outcome": e.outcome,
                "at": e.created_at,
            }
            for e in page
        ]
        return paginator.get_paginated_response(rows)
