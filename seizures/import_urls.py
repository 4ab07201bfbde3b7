from django.urls import path

from . import import_views

app_name = "seizure_import"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("<int:job_id>/", import_views.job_detail, name="job"),
    path("template.<str:fmt>", import_views.template_download, name="template"),
]
