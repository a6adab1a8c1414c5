from django.urls import path

from frontend.views import auth, members, workspace

urlpatterns = [
    path("", workspace.dashboard, name="dashboard"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("members/", members.members, name="members"),
    path("members/<int:pk>/role/", members.member_role, name="member-role"),
    path("members/<int:pk>/remove/", members.member_remove, name="member-remove"),
    path("members/leave/", members.leave, name="member-leave"),
    path("invitations/<int:pk>/revoke/", members.invitation_revoke_view, name="invitation-revoke"),
    path("invitations/<int:pk>/resend/", members.invitation_resend_view, name="invitation-resend"),
    path("audit/", workspace.audit, name="audit"),
]
