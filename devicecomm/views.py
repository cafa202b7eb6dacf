"""The owner's API (attributes, commands) and the device's own HTTP API (the non-waiting
parts; the long-polls are in devicecomm/longpoll.py)."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from devicecomm import selectors, services
from devicecomm.models import Attribute
from devicecomm.serializers import (
    AttributesSerializer,
    AttributesSetSerializer,
    CommandCreateSerializer,
    CommandSerializer,
)
from devices.authentication import DevicePathTokenAuthentication, DeviceTokenAuthentication, IsDevice
from devices.selectors import device_get_for_user

ALL_SCOPES = tuple(scope for scope, _label in Attribute.SCOPES)
DEVICE_SCOPES = (Attribute.CLIENT, Attribute.SHARED)


def json_body(request, *, field: str = "body") -> Any:
    """The body as JSON whatever its Content-Type: firmware often labels it wrongly."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise ValidationError({field: [f"Larger than {limit} bytes."]})
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ValidationError({field: [f"Not JSON: {error}"]}) from None


def keys_param(request, name: str, alias: str) -> list[str] | None:
    """Comma-separated keys (`clientKeys=a,b`, ThingsBoard's documented form), or the
    repeated `client_keys=a&client_keys=b` that ThingsBoard's Python HTTP SDK sends."""
    values = request.query_params.getlist(name) + request.query_params.getlist(alias)
    if not values:
        return None
    return services.keys_validate(keys=",".join(values), field=name)


# --- the owner ----------------------------------------------------------------------------


class DeviceAttributesView(APIView):
    """A device's attributes by scope: all may be read, shared and server ones set and deleted."""

    @extend_schema(
        parameters=[OpenApiParameter("scope", str, enum=ALL_SCOPES, description="one scope only")],
        responses=AttributesSerializer,
    )
    def get(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        scope = request.query_params.get("scope")
        scopes = ALL_SCOPES if scope is None else (services.scope_validate(scope=scope, allowed=ALL_SCOPES),)
        return Response(selectors.attributes_by_scope(device=device, scopes=scopes))

    @extend_schema(request=AttributesSetSerializer, responses=AttributesSerializer)
    def post(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        body = AttributesSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scope = services.scope_validate(scope=body.validated_data["scope"])
        services.attributes_set(device=device, scope=scope, attributes=body.validated_data["attributes"])
        return Response(selectors.attributes_by_scope(device=device, scopes=(scope,)))

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", str, enum=services.OWNER_SCOPES, required=True),
            OpenApiParameter("keys", str, required=True, description="comma-separated"),
        ],
        responses={204: None},
    )
    def delete(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        scope = services.scope_validate(scope=request.query_params.get("scope"))
        keys = services.keys_validate(keys=request.query_params.get("keys", ""))
        services.attributes_delete(device=device, scope=scope, keys=keys)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceCommandsView(APIView):
    """A device's commands, newest first; POST sends a new one."""

    @extend_schema(responses=CommandSerializer(many=True))
    def get(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        services.commands_expire(device=device)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.commands_of_device(device=device), request, view=self)
        return paginator.get_paginated_response(CommandSerializer(page, many=True).data)

    @extend_schema(request=CommandCreateSerializer, responses={201: CommandSerializer})
    def post(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        body = CommandCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        command = services.command_create(device=device, **body.validated_data)
        return Response(CommandSerializer(command).data, status=status.HTTP_201_CREATED)


class DeviceCommandView(APIView):
    @extend_schema(responses=CommandSerializer)
    def get(self, request, pk, command_id):
        device = device_get_for_user(user=request.user, device_id=pk)
        services.commands_expire(device=device)
        command = selectors.command_of_device(device=device, command_id=command_id)
        if command is None:
            return Response({"detail": "This device has no such command."}, status=status.HTTP_404_NOT_FOUND)
        return Response(CommandSerializer(command).data)


# --- the device (Authorization: Device <token>) ---------------------------------------------


class DeviceSelfAttributesView(APIView):
    """GET: the device's client and shared attributes (all, or ?clientKeys= / ?sharedKeys=);
    POST: report client attributes (a JSON object)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []

    @extend_schema(
        parameters=[OpenApiParameter("clientKeys", str), OpenApiParameter("sharedKeys", str)],
        responses=AttributesSerializer,
    )
    def get(self, request):
        return Response(attributes_for_device(request))

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses=AttributesSerializer)
    def post(self, request):
        attributes = json_body(request, field="attributes")
        services.attributes_set(device=request.auth, scope=Attribute.CLIENT, attributes=attributes)
        return Response(selectors.attributes_by_scope(device=request.auth, scopes=(Attribute.CLIENT,)))


def attributes_for_device(request) -> dict[str, dict[str, Any]]:
    """ThingsBoard's answer shape: {"client": {...}, "shared": {...}}; with neither key
    list, everything; with one, only that scope."""
    client_keys = keys_param(request, "clientKeys", "client_keys")
    shared_keys = keys_param(request, "sharedKeys", "shared_keys")
    device = request.auth
    if client_keys is None and shared_keys is None:
        return selectors.attributes_by_scope(device=device, scopes=DEVICE_SCOPES)
    answer = {}
    if client_keys is not None:
        answer["client"] = selectors.attribute_values(device=device, scope=Attribute.CLIENT, keys=client_keys)
    if shared_keys is not None:
        answer["shared"] = selectors.attribute_values(device=device, scope=Attribute.SHARED, keys=shared_keys)
    return answer


class DeviceSelfCommandReplyView(APIView):
    """The device's answer to a command: any JSON; an object with "error" fails it."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []

    @extend_schema(request={"application/json": OpenApiTypes.ANY}, responses=CommandSerializer)
    def post(self, request, command_id):
        response = json_body(request, field="response")
        command = services.command_reply(device=request.auth, command_id=command_id, response=response)
        return Response(CommandSerializer(command).data)


class DeviceSelfRpcView(APIView):
    """Client-side RPC: the device asks the server ({"method", "params"})."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        call = json_body(request)
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            raise ValidationError({"method": ['Send {"method": <name>, "params": {...}}.']})
        return Response(
            services.client_rpc_answer(device=request.auth, method=call["method"], params=call.get("params"))
        )


# --- ThingsBoard's device API (the token in the path) -----------------------------------------


class ThingsBoardView(APIView):
    authentication_classes = [DevicePathTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes: list = []

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Django's request logger writes the path of every 4xx, and the path holds the token.
        response._has_been_logged = True
        return response


class ThingsBoardAttributesView(ThingsBoardView):
    @extend_schema(
        parameters=[OpenApiParameter("clientKeys", str), OpenApiParameter("sharedKeys", str)],
        responses=AttributesSerializer,
        summary="ThingsBoard-compatible: read client and shared attributes",
    )
    def get(self, request, device_token: str):
        return Response(attributes_for_device(request))

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: OpenApiResponse(description="stored; empty body")},
        summary="ThingsBoard-compatible: report client attributes",
    )
    def post(self, request, device_token: str):
        attributes = json_body(request, field="attributes")
        services.attributes_set(device=request.auth, scope=Attribute.CLIENT, attributes=attributes)
        return Response(status=status.HTTP_200_OK)


class ThingsBoardRpcReplyView(ThingsBoardView):
    @extend_schema(
        request={"application/json": OpenApiTypes.ANY},
        responses={200: OpenApiResponse(description="stored; empty body")},
        summary="ThingsBoard-compatible: reply to a server-side RPC",
    )
    def post(self, request, device_token: str, command_id: str):
        response = json_body(request, field="response")
        services.command_reply(device=request.auth, command_id=command_id, response=response)
        return Response(status=status.HTTP_200_OK)
