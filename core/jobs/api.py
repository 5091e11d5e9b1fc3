from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from core.jobs.models import Job
from core.jobs.registry import job_kind_get


class JobOut(serializers.Serializer[Job]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    project = serializers.IntegerField(source="project_id", allow_null=True)
    status = serializers.CharField()
    progress = serializers.IntegerField()
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def job_accepted_response(request: Request, job: Job) -> Response:
    """A 202 with the job and a Location header pointing at `GET /api/jobs/{id}/`."""
    job.refresh_from_db()  # in-process mode (no REDIS_URL) has already run it
    response = Response(JobOut(job).data, status=202)
    response["Location"] = request.build_absolute_uri(f"/api/jobs/{job.id}/")
    return response


class JobDetailApi(APIView):
    @extend_schema(responses=JobOut, summary="A background job's status, progress, result and error")
    def get(self, request: Request, job_id: int) -> Response:
        job = Job.objects.filter(pk=job_id).first()
        if job is None or not _can_see_job(request.user, job):
            raise NotFound("Job not found.")
        data: dict[str, Any] = JobOut(job).data
        return Response(data)


def _can_see_job(user: AbstractBaseUser | AnonymousUser, job: Job) -> bool:
    """Whom the job's kind lets read it (its app registered that: a member whose current role
    may start the kind); a job without a project, only its creator."""
    if job.project_id is None:
        return job.created_by_id == user.pk
    spec = job_kind_get(job.kind)
    return spec is not None and spec.can_read(user, job)
