from django.urls import path  # noqa: F401

app_name = "seizure_import"

urlpatterns: list = []
