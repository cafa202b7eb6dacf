from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from devices import qr, services
from devices.authentication import DeviceTokenAuthentication, IsDevice
from devices.http import server_base_url
from devices.models import Device
from devices.selectors import device_get_for_user, devices_of_user
from devices.serializers import DeviceCreatedSerializer, DeviceSelfSerializer, DeviceSerializer, DeviceTokenSerializer


class DeviceHasNoToken(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This device has no token (it was revoked). Rotate to issue a new one."
    default_code = "no_token"


class DeviceViewSet(viewsets.ModelViewSet):
    serializer_class = DeviceSerializer
    queryset = Device.objects.none()  # the schema's model; requests use get_queryset
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return devices_of_user(user=self.request.user)

    @extend_schema(responses={201: DeviceCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device, token = services.device_create(owner=request.user, **serializer.validated_data)
        device.token = token
        return Response(DeviceCreatedSerializer(device, context=self.get_serializer_context()).data, status=201)

    def perform_update(self, serializer):
        services.device_update(device=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.device_delete(device=instance)


class DeviceTokenView(APIView):
    """POST rotates the device token and returns the new one; DELETE revokes it."""

    @extend_schema(request=None, responses={201: DeviceTokenSerializer})
    def post(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        token = services.device_token_rotate(device=device)
        body = {"token": token, "token_hint": device.token_hint, "token_issued_at": device.token_issued_at}
        return Response(DeviceTokenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        services.device_token_revoke(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceQrView(APIView):
    """The device's QR code: {"server", "device", "token"} for the owner's eyes only."""

    renderer_classes = [JSONRenderer]  # errors; the image itself is a plain response
    image_format = "svg"

    @extend_schema(responses={(200, "image/svg+xml"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        device = device_get_for_user(user=request.user, device_id=pk)
        token = services.device_token_plain(device=device)
        if token is None:
            raise DeviceHasNoToken()
        payload = qr.device_qr_payload(server=server_base_url(request), device_id=device.pk, token=token)
        if self.image_format == "png":
            image, content_type = qr.qr_png(payload), "image/png"
        else:
            image, content_type = qr.qr_svg(payload), "image/svg+xml"
        response = HttpResponse(image, content_type=content_type)
        response["Cache-Control"] = "no-store"  # it holds a secret
        return response


class DeviceSelfView(APIView):
    """For a device: who it is and its config (an edge reader fetches its calibration here)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(responses=DeviceSelfSerializer)
    def get(self, request):
        return Response(DeviceSelfSerializer(request.auth).data)
