from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from aircop.ratelimit import limit_page

from . import login_views, manage_views, views
from .forms import PasswordChangeForm

app_name = "accounts"

urlpatterns = [
    path("login/", limit_page("login")(login_views.PasswordLoginView.as_view()), name="login"),
    path("login/code/", login_views.second_factor, name="second_factor"),
    path("login/enrol/", login_views.enrol, name="enrol"),
    path("recovery-codes/", login_views.recovery_codes_renew, name="recovery_codes"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            form_class=PasswordChangeForm,
            success_url=reverse_lazy("accounts:password_changed"),
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_changed.html"),
        name="password_changed",
    ),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("operations/", views.operations, name="operations"),
    path("operations/<slug:slug>/leave/", views.operation_leave, name="leave"),
    path("language/", views.set_language, name="set_language"),
    path("invitation/<str:secret>/", manage_views.invitation, name="invitation_accept"),
]
