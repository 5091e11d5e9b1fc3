from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.api.serializers import StrictInputSerializer
from labeling.errors import PermissionDenied
from labeling.models import ProjectMembership
from labeling.services.projects import user_create
from labeling.services.tokens import api_token_created, api_token_revoke, api_token_rotate


class UserCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
        password = serializers.CharField(required=False, write_only=True, min_length=8, max_length=128)
        email = serializers.EmailField(required=False, default="")
        first_name = serializers.CharField(required=False, default="", max_length=150)
        last_name = serializers.CharField(required=False, default="", max_length=150)
        can_create_projects = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField()
        token = serializers.CharField()

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer}, summary="Create a user (admin)"
    )
    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only administrators can create users.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = user_create(acting_user=request.user, **data.validated_data)
        out = {"id": user.id, "username": user.username, "email": user.email, "token": token}
        return Response(self.OutputSerializer(out).data, status=201)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField()
        is_staff = serializers.BooleanField()
        token_created = serializers.DateTimeField(allow_null=True)
        projects = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer}, summary="Who am I: account, token and projects")
    def get(self, request):
        user = request.user
        memberships = ProjectMembership.objects.filter(user=user).select_related("project")
        projects = [
            {"id": m.project_id, "name": m.project.name, "role": m.role}
            for m in memberships.order_by("project_id")
        ]
        out = {
            "id": user.id,
            "username": user.get_username(),
            "email": user.email,
            "is_staff": user.is_staff,
            "token_created": api_token_created(user=user),
            "projects": projects,
        }
        return Response(self.OutputSerializer(out).data)


class MeTokenApi(APIView):
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=None,
        responses={201: OutputSerializer},
        summary="Make a new API token (the old one stops working; the key is shown only now)",
    )
    def post(self, request):
        return Response({"token": api_token_rotate(user=request.user)}, status=201)

    @extend_schema(request=None, responses={204: None}, summary="Revoke your API token")
    def delete(self, request):
        api_token_revoke(user=request.user)
        return Response(status=204)
