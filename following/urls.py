from django.urls import path

from following import api, api_follows, api_notify, api_stats, views, views_stats

app_name = "following"

API = "api/v1/follow-config/"

urlpatterns = [
    path(f"{API}settings", api.FollowSettingsApi.as_view(), name="api-settings"),
    path(f"{API}status", api.FollowStatusApi.as_view(), name="api-status"),
    path(f"{API}follows", api_follows.FollowListApi.as_view(), name="api-follows"),
    path(f"{API}follows/<int:settings_id>", api_follows.FollowDetailApi.as_view(), name="api-follow"),
    path(
        f"{API}follows/<int:settings_id>/status", api_follows.FollowDetailStatusApi.as_view(), name="api-follow-status"
    ),
    path(f"{API}errors", api.TradeErrorListApi.as_view(), name="api-errors"),
    path(f"{API}errors/<int:error_id>/resolve", api.TradeErrorResolveApi.as_view(), name="api-error-resolve"),
    path(f"{API}masters", api.MasterListApi.as_view(), name="api-masters"),
    path(f"{API}masters/<int:credential_id>/close", api.MasterCloseApi.as_view(), name="api-master-close"),
    path(f"{API}credentials", api.CredentialListApi.as_view(), name="api-credentials"),
    path(f"{API}stats", api_stats.FollowerStatsApi.as_view(), name="api-stats"),
    path(f"{API}notifications", api_notify.NotifySettingsApi.as_view(), name="api-notifications"),
    path(f"{API}masters/<int:credential_id>/stats", api_stats.MasterStatsApi.as_view(), name="api-master-stats"),
    path("follow/", views.dashboard, name="dashboard"),
    path("follow/status/", views.status_fragment, name="status"),
    path("follow/<int:settings_id>/unfollow/", views.unfollow, name="unfollow"),
    path("follow/stats/", views_stats.stats_fragment, name="stats"),
    path("follow/notifications/", views_stats.notifications_fragment, name="notifications"),
    path("follow/errors/<int:error_id>/resolve/", views.error_resolve, name="error-resolve"),
    path("follow/admin/", views.admin_overview, name="admin"),
    path("follow/signup/", views.signup, name="signup"),
]
