from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_api_key.permissions import HasAPIKey

from bench.drf_anchor.models import AnchorSignal


class AnchorSignalSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnchorSignal
        fields = [
            "id",
            "symbol",
            "side",
            "suggest_price",
            "suggest_qty",
            "strategy_name",
            "reason",
            "status",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class SignalCreateApi(APIView):
    authentication_classes: list = []
    permission_classes = [HasAPIKey]

    def post(self, request):
        serializer = AnchorSignalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)
