from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.accounts.projects import account_projects_of
from core.accounts.services import api_token_created, api_token_revoke, api_token_rotate, user_create
from core.api.serializers import StrictInputSerializer
from core.errors import PermissionDenied


class UserCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
        password = serializers.CharField(required=False, write_only=True, min_length=8, max_length=128)
        email = serializers.EmailField(required=False, default="")
        first_name = serializers.CharField(required=False, default="", max_length=150)
        last_name = serializers.CharField(required=False, default="", max_length=150)
        can_create_projects = serializers.BooleanField(required=False, default=False)
        # A password chosen by an administrator is one-time unless they say otherwise.
        must_change_password = serializers.BooleanField(required=False, default=True)

    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField()
        token = serializers.CharField()
        must_change_password = serializers.BooleanField()

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer}, summary="Create a user (admin)"
    )
    def post(self, request: Request) -> Response:
        if not getattr(request.user, "is_staff", False):
            raise PermissionDenied("Only administrators can create users.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = user_create(acting_user=request.user, **data.validated_data)
        out = {
            "id": user.pk,
            "username": user.get_username(),
            "email": getattr(user, "email", ""),
            "token": token,
            "must_change_password": bool(data.validated_data.get("password"))
            and data.validated_data["must_change_password"],
        }
        return Response(self.OutputSerializer(out).data, status=201)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField()
        is_staff = serializers.BooleanField()
        token_created = serializers.DateTimeField(allow_null=True)
        projects = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer}, summary="Who am I: account, token and projects")
    def get(self, request: Request) -> Response:
        user = request.user
        projects = [
            {"id": p.id, "name": p.name, "role": p.role} for p in account_projects_of(user=user, order="id")
        ]
        out = {
            "id": user.pk,
            "username": user.get_username(),
            "email": getattr(user, "email", ""),
            "is_staff": getattr(user, "is_staff", False),
            "token_created": api_token_created(user=user),
            "projects": projects,
        }
        return Response(self.OutputSerializer(out).data)


class MeTokenApi(APIView):
    class OutputSerializer(serializers.Serializer[dict[str, str]]):
        token = serializers.CharField()

    @extend_schema(
        request=None,
        responses={201: OutputSerializer},
        summary="Make a new API token (the old one stops working; the key is shown only now)",
    )
    def post(self, request: Request) -> Response:
        return Response({"token": api_token_rotate(user=request.user)}, status=201)

    @extend_schema(request=None, responses={204: None}, summary="Revoke your API token")
    def delete(self, request: Request) -> Response:
        api_token_revoke(user=request.user)
        return Response(status=204)
