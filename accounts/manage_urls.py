from django.urls import path

from . import manage_views as views

app_name = "manage"

urlpatterns = [
    path("operations/", views.operations, name="operations"),
    path("operations/new/", views.operation_new, name="operation_new"),
    path("operations/<slug:slug>/", views.operation, name="operation"),
    path("operations/<slug:slug>/status/", views.operation_status, name="status"),
    path("operations/<slug:slug>/members/", views.member_add, name="member_add"),
    path("operations/<slug:slug>/members/import/", views.member_import, name="member_import"),
    path(
        "operations/<slug:slug>/members/<int:membership_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "operations/<slug:slug>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("operations/<slug:slug>/invitations/", views.invite, name="invite"),
    path("users/", views.users, name="users"),
    path("users/<str:username>/deactivate/", views.user_deactivate_view, name="user_deactivate"),
]
