"""Log in by email, whatever case the person types it in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = email or username
        if not email or password is None:
            return None
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            # Spend the same time as a real check so existence does not leak.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
