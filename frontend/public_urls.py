from django.urls import path

from frontend.views import auth, public

urlpatterns = [
    path("", public.landing, name="landing"),
    path("signup/", public.signup_view, name="signup"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("organizations/", public.organization_list, name="organization-list"),
    path("organizations/new/", public.organization_new, name="organization-new"),
    path("organizations/<slug:slug>/setup/", public.organization_setup, name="organization-setup"),
    path("invitations/<str:token>/", public.invitation_view, name="invitation"),
]
