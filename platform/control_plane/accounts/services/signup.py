"""Signing up: a person, their first organization and its provisioning, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from control_plane.accounts.models import User
from control_plane.errors import Conflict
from control_plane.organizations.models import Organization
from control_plane.organizations.services.provisioning import organization_create
from control_plane.organizations.services.slugs import validate_slug


@dataclass(frozen=True)
class SignupResult:
    user: User
    organization: Organization | None


def _collect(errors: dict[str, list[str]], field: str, exc: ValidationError) -> None:
    errors.setdefault(field, []).extend(exc.messages)


def user_create(*, email: str, password: str, full_name: str = "") -> User:
    """Create an account after checking every field; raises ValidationError by field."""
    errors: dict[str, list[str]] = {}
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        _collect(errors, "email", exc)
    if email and User.objects.filter(email__iexact=email).exists():
        errors.setdefault("email", []).append("An account with this email already exists.")
    try:
        validate_password(password, User(email=email, full_name=full_name))
    except ValidationError as exc:
        _collect(errors, "password", exc)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, full_name=full_name.strip()
            )
    except IntegrityError as exc:  # the same address signed up a moment ago
        raise ValidationError({"email": "An account with this email already exists."}) from exc


def signup(
    *, email: str, password: str, full_name: str, organization_name: str, slug: str
) -> SignupResult:
    """Create the user and their organization, and queue its provisioning.

    Every field is validated before anything is written, and the whole
    signup is one transaction: a taken slug or a weak password leaves no user
    and no organization behind.
    """
    errors: dict[str, list[str]] = {}
    try:
        validate_slug(slug)
    except ValidationError as exc:
        _collect(errors, "slug", exc)
    else:
        if Organization.objects.filter(slug=slug).exists():
            errors.setdefault("slug", []).append(f"The address “{slug}” is taken.")
    if not (organization_name or "").strip():
        errors.setdefault("organization_name", []).append("Enter the organization's name.")
    try:
        with transaction.atomic():
            try:
                user = user_create(email=email, password=password, full_name=full_name)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    errors.setdefault(field, []).extend(messages)
                user = None
            if errors:
                raise ValidationError(errors)
            organization = organization_create(
                name=organization_name, slug=slug, owner_email=user.email, actor=user
            )
    except Conflict as exc:
        raise ValidationError({exc.field or "slug": exc.message}) from exc
    return SignupResult(user=user, organization=organization)
