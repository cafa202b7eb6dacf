from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DeviceTokenAuthentication, IsDevice
from telemetry.images import reading_from_image
from telemetry.payloads import PayloadError

ImageUpload = inline_serializer("ImageUpload", {"image": serializers.ImageField()})
ImageReadingAnswer = inline_serializer(
    "ImageReading",
    {
        "accepted": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "value": serializers.FloatField(),
        "angle": serializers.FloatField(required=False, help_text="a dial's needle, degrees clockwise from 12"),
        "learned_support": serializers.FloatField(
            required=False, help_text="a dial's: the learned scorer's probability that the needle points there"
        ),
        "confidence": serializers.FloatField(),
    },
)


class TelemetryImageView(APIView):
    """A device sends a photo (multipart field `image`); the server reads the gauge or
    display with the device's calibration and stores the value."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes = [MultiPartParser]

    @extend_schema(request={"multipart/form-data": ImageUpload}, responses={201: ImageReadingAnswer})
    def post(self, request):
        upload = request.FILES.get("image")
        if upload is None:
            raise PayloadError("Send the photo as the multipart field 'image'.", field="image")
        result = reading_from_image(device=request.auth, data=upload.read(), received_at=timezone.now())
        return Response({**result.stored.as_json(), **result.reading.as_json()}, status=status.HTTP_201_CREATED)
