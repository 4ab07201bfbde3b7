from django.contrib import admin
from django.urls import include, path

from accounts.views import home

from .api import api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("o/<slug:slug>/", include("messaging.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
