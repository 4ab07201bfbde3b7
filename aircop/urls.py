from django.contrib import admin
from django.urls import include, path

from accounts.views import home
from aircop.ratelimit import limit_page

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
    # The admin's own login form counts in the same login limits as the site's.
    path("admin/login/", limit_page("login")(admin.site.login)),
    path("admin/", admin.site.urls),
]
