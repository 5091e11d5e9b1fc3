from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.errors import NotFound
from labeling.models import Job, JobKind, ProjectMembership, Role
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member
from labeling.services.stats import project_stats_refresh_request


class JobOut(serializers.Serializer):
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


def job_accepted_response(request, job: Job) -> Response:
    """A 202 with the job and a Location header pointing at `GET /api/jobs/{id}/`."""
    job.refresh_from_db()  # in-process mode (no REDIS_URL) has already run it
    response = Response(JobOut(job).data, status=202)
    response["Location"] = request.build_absolute_uri(f"/api/jobs/{job.id}/")
    return response


class JobDetailApi(APIView):
    @extend_schema(responses=JobOut, summary="A background job's status, progress, result and error")
    def get(self, request, job_id: int):
        job = Job.objects.filter(pk=job_id).first()
        if job is None or not _can_see_job(request.user, job):
            raise NotFound("Job not found.")
        return Response(JobOut(job).data)


# Who may read a project job now: those who may start that kind of job. The role is checked
# on every read, so someone demoted or removed after starting a job (an import's report, a
# snapshot's files) no longer reads it, creator or not.
JOB_READERS = {
    JobKind.PROJECT_STATS: (Role.REVIEWER, Role.MANAGER),
    JobKind.IMPORT_ITEMS: (Role.MANAGER,),
    JobKind.IMPORT_ANNOTATIONS: (Role.MANAGER,),
    JobKind.EXPORT: (Role.MANAGER, Role.PIPELINE),
    JobKind.SNAPSHOT: (Role.MANAGER,),
}


def _can_see_job(user, job: Job) -> bool:
    """A member whose current role may start the job's kind (reviewers also see the project's
    statistics jobs); a job without a project, only its creator."""
    if job.project_id is None:
        return job.created_by_id == user.id
    return ProjectMembership.objects.filter(
        project_id=job.project_id, user=user, role__in=JOB_READERS.get(job.kind, (Role.MANAGER,))
    ).exists()


class ProjectStatsRefreshApi(APIView):
    @extend_schema(request=None, responses={202: JobOut}, summary="Recompute project statistics (a job)")
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        job = project_stats_refresh_request(project=project, requested_by=request.user)
        return job_accepted_response(request, job)
