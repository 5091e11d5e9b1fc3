"""OpenAPI generation: component names from the serializer's qualified name.

Views declare their serializers as nested classes (`ProjectListCreateApi.InputSerializer`);
drf-spectacular would name them all "Input…" and mix them up, so the enclosing view's name
is kept.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema


class ConcordAutoSchema(AutoSchema):
    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name: str = super()._get_serializer_name(serializer, direction, bypass_extensions)
        qualname = type(serializer).__qualname__
        if "." in qualname and not getattr(serializer, "_spectacular_annotation", {}).get("component_name"):
            base = type(serializer).__name__
            name = name.replace(
                base.removesuffix("Serializer"), qualname.replace(".", "").removesuffix("Serializer"), 1
            )
        return name
