from django.urls import path

from . import views

app_name = "seizures"

urlpatterns = [
    path("", views.register, name="register"),
    path("new/", views.seizure_new, name="new"),
    path("<int:seizure_id>/", views.detail, name="detail"),
    path("<int:seizure_id>/edit/", views.edit, name="edit"),
    path("<int:seizure_id>/photos/<uuid:uid>/", views.photo_download, name="photo"),
    path(
        "<int:seizure_id>/photos/<uuid:uid>/thumbnail/",
        views.photo_thumbnail,
        name="photo_thumbnail",
    ),
]
