from django.urls import include, path

from frontend.views import auth, google, public

urlpatterns = [
    path("", public.landing, name="landing"),
    path("signup/", public.signup_view, name="signup"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password-reset/", auth.password_reset, name="password-reset"),
    path("password-reset/sent/", auth.password_reset_sent, name="password-reset-sent"),
    path("reset/<uidb64>/<token>/", auth.password_reset_confirm, name="password-reset-confirm"),
    path("reset/done/", auth.password_reset_done, name="password-reset-complete"),
    path("auth/google/", google.google_begin, name="google-begin"),
    path("auth/done/", google.google_done, name="google-done"),
    path("auth/", include("frontend.social_urls", namespace="social")),
    path("organizations/", public.organization_list, name="organization-list"),
    path("organizations/new/", public.organization_new, name="organization-new"),
    path("organizations/<slug:slug>/setup/", public.organization_setup, name="organization-setup"),
    path("invitations/<str:token>/", public.invitation_view, name="invitation"),
]
