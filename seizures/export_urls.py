from django.urls import path

from . import export_views

app_name = "exports"

urlpatterns = [
    path("", export_views.export_list, name="list"),
    path("new/", export_views.export_new, name="new"),
    path("<uuid:uid>/", export_views.export_detail, name="detail"),
    path("<uuid:uid>/download/", export_views.export_file, name="download"),
]
