"""Forms of the control-plane and member pages; they validate shape, services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from control_plane.accounts.roles import Role


class SignupForm(forms.Form):
    full_name = forms.CharField(max_length=200, required=False, label="Your name")
    email = forms.EmailField(label="Email")
    password = forms.CharField(widget=forms.PasswordInput, label="Password", strip=False)
    organization_name = forms.CharField(max_length=200, label="Organization name")
    slug = forms.CharField(
        max_length=40,
        label="Address",
        help_text="Lowercase letters, digits and hyphens; your workspace will be at <address>.",
    )


class AccountForm(forms.Form):
    """Sign up to accept an invitation (no organization of one's own)."""

    full_name = forms.CharField(max_length=200, required=False, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput, label="Password", strip=False)


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organization name")
    slug = forms.CharField(max_length=40, label="Address")


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
