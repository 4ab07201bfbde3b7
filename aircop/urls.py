from django.contrib import admin
from django.urls import include, path

from accounts.login_views import admin_login
from accounts.views import home

from .api import api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("accounts.audit.urls")),
    path("manage/", include("accounts.manage_urls")),
    path("o/<slug:slug>/", include("messaging.urls")),
    path("seizures/import/", include("seizures.import_urls")),
    path("seizures/", include("seizures.urls")),
    path("exports/", include("seizures.export_urls")),
    path("", include("seizures.stats_urls")),
    path("api/v1/", api.urls),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
]
