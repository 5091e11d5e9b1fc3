from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.api.serializers import StrictInputSerializer
from labeling.errors import PermissionDenied
from labeling.services.projects import user_create


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
