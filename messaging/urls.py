from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("sent/", views.sent, name="sent"),
    path("search/", views.search, name="search"),
    path("compose/", views.compose, name="compose"),
    path("alerts/new/", views.alert_new, name="alert_new"),
    path("seizures/new/", views.seizure_new, name="seizure_new"),
    path("follow-up/", views.followup, name="followup"),
    path("messages/<int:message_id>/", views.detail, name="detail"),
    path("messages/<int:message_id>/respond/", views.respond, name="respond"),
    path("messages/<int:message_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("messages/<int:message_id>/forward/", views.forward, name="forward"),
    path(
        "messages/<int:message_id>/attachments/<uuid:uid>/",
        views.attachment_download,
        name="attachment",
    ),
    path(
        "messages/<int:message_id>/attachments/<uuid:uid>/thumbnail/",
        views.attachment_thumbnail,
        name="attachment_thumbnail",
    ),
]
