"""Serializer helpers shared by the API modules."""

from typing import Any

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not declare, so `role`, `is_staff` & co. can't be smuggled in."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: this endpoint does not accept it."] for name in unknown}
                )
        return super().to_internal_value(data)
