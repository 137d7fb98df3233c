from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from tradedesk.models import UserToken


@admin.register(UserToken)
class UserTokenAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__username"]
