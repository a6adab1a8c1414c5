"""Template helpers: icons, status badges, friendly errors, list links."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from frontend import explain

register = template.Library()

# 24×24 stroke icons (drawn for this product; round caps, 2px strokes).
_ICONS = {
    "home": '<path d="M3 11l9-8 9 8"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "send": '<path d="M22 2L11 13"/><path d="M22 2l-7 20-4-9-9-4 20-7z"/>',
    "file": '<path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z"/>'
    '<path d="M14 2v6h6"/><path d="M8 13h8M8 17h5"/>',
    "users": '<circle cx="9" cy="8" r="4"/><path d="M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1"/>'
    '<path d="M16 4a4 4 0 0 1 0 8M22 21v-1a6 6 0 0 0-4-5.6"/>',
    "folder": '<path d="M3 6a2 2 0 0 1 2-2h4l2 3h8a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z"/>',
    "server": '<rect x="3" y="3" width="18" height="7" rx="2"/><rect x="3" y="14" width="18" '
    'height="7" rx="2"/><path d="M7 6.5h.01M7 17.5h.01"/>',
    "braces": '<path d="M8 3H7a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2 2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h1"/>'
    '<path d="M16 3h1a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2 2 2 0 0 0-2 2v4a2 2 0 0 1-2 2h-1"/>',
    "key": '<circle cx="7.5" cy="15.5" r="4.5"/><path d="M10.7 12.3L21 2M16 7l3 3M14 9l2 2"/>',
    "shield": '<path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z"/>',
    "history": '<path d="M3 12a9 9 0 1 0 3-6.7L3 8"/><path d="M3 3v5h5"/><path d="M12 7v5l3 3"/>',
    "menu": '<path d="M3 6h18M3 12h18M3 18h18"/>',
    "sun": '<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 '
    '1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>',
    "moon": '<path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/>',
    "logout": '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/><path d="M16 17l5-5-5-5M21 12H9"/>',
    "chevron": '<path d="M6 9l6 6 6-6"/>',
    "check": '<path d="M20 6L9 17l-5-5"/>',
    "x": '<path d="M18 6L6 18M6 6l12 12"/>',
    "alert": '<path d="M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z"/>'
    '<path d="M12 9v4M12 17h.01"/>',
    "copy": '<rect x="9" y="9" width="13" height="13" rx="2"/>'
    '<path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>',
    "download": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><path d="M7 10l5 5 5-5M12 15V3"/>',
    "upload": '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4"/><path d="M17 8l-5-5-5 5M12 3v12"/>',
    "refresh": '<path d="M21 12a9 9 0 0 1-15.5 6.2L3 16"/><path d="M3 12a9 9 0 0 1 15.5-6.2L21 8"/>'
    '<path d="M21 3v5h-5M3 21v-5h5"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="M21 21l-4.3-4.3"/>',
    "trash": '<path d="M3 6h18M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 '
    '0 0 1-2-2L5 6"/>',
    "edit": '<path d="M12 20h9"/><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z"/>',
    "qr": '<rect x="3" y="3" width="7" height="7"/><rect x="14" y="3" width="7" height="7"/>'
    '<rect x="3" y="14" width="7" height="7"/><path d="M14 14h3v3M21 14v7h-7M17 21v-4"/>',
    "spark": '<path d="M12 2v6M12 16v6M2 12h6M16 12h6M5 5l3 3M16 16l3 3M5 19l3-3M16 8l3-3"/>',
    "google": '<path d="M21 12.2c0-.7-.1-1.4-.2-2H12v3.8h5a4.3 4.3 0 0 1-1.9 2.8v2.3h3A9 9 0 0 0 21 '
    '12.2z"/><path d="M12 21a9 9 0 0 0 6.1-2.2l-3-2.3a5.4 5.4 0 0 1-8-2.8H4v2.4A9 9 0 0 0 12 21z"/>'
    '<path d="M7.1 13.7a5.4 5.4 0 0 1 0-3.4V7.9H4a9 9 0 0 0 0 8.2z"/><path d="M12 6.6a4.9 4.9 0 0 1 '
    '3.4 1.3l2.6-2.6A9 9 0 0 0 4 7.9l3.1 2.4A5.4 5.4 0 0 1 12 6.6z"/>',
    "eye": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8S1 12 1 12z"/><circle cx="12" cy="12" r="3"/>',
    "org": '<path d="M3 21h18M5 21V7l7-4 7 4v14"/><path d="M9 9h.01M15 9h.01M9 13h.01M15 13h.01M10 '
    '21v-4h4v4"/>',
}


@register.simple_tag
def icon(name: str, label: str = "", size: int = 18):
    """An inline SVG icon; decorative unless ``label`` is given."""
    paths = _ICONS.get(name, "")
    aria = format_html('role="img" aria-label="{}"', label) if label else 'aria-hidden="true"'
    return format_html(
        '<svg class="icon" width="{}" height="{}" viewBox="0 0 24 24" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'focusable="false" {}>{}</svg>',
        size,
        size,
        mark_safe(aria),  # noqa: S308 - built by format_html above or a constant
        mark_safe(paths),  # noqa: S308 - constant markup of this module
    )


_STATUS_LABELS = {
    "pending": "Waiting",
    "queued": "Queued",
    "running": "Publishing",
    "published": "Published",
    "succeeded": "Succeeded",
    "partially_failed": "Partly failed",
    "failed": "Failed",
    "skipped": "Skipped",
}


@register.simple_tag
def status_badge(status: str, label: str = ""):
    return format_html(
        '<span class="badge badge-{}" data-status="{}">{}</span>',
        status,
        status,
        label or _STATUS_LABELS.get(status, status.replace("_", " ").capitalize()),
    )


@register.filter
def ago(value) -> str:
    """“just now” under a minute, else “3 minutes ago” / “2 hours ago” (one unit)."""
    if not value:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def friendly_item_error(item):
    return explain.item_error(item)


@register.filter
def friendly_run_error(run):
    return explain.run_error(run)


@register.simple_tag
def sort_header(listing, key: str):
    """A sortable column header's link, with its state for screen readers."""
    state = listing.sort_state(key)
    arrow = {"ascending": "▲", "descending": "▼"}.get(state, "")
    return format_html(
        '<a class="sort" href="{}">{} <span aria-hidden="true">{}</span></a>',
        listing.sort_url(key),
        listing.sorts.get(key, key),
        arrow,
    )


@register.simple_tag
def aria_sort(listing, key: str):
    state = listing.sort_state(key)
    return format_html('aria-sort="{}"', state) if state != "none" else ""


@register.filter
def length_limit(field) -> int | None:
    """The most characters a text field takes (shown under it), None for other fields."""
    limit = getattr(field.field, "max_length", None)
    if not limit or field.widget_type not in ("text", "email", "url", "textarea", "search"):
        return None
    return limit


@register.filter
def add_describedby(field, error: str = ""):
    """Render a field's widget tied to its help text and errors for screen readers."""
    ids = []
    attrs: dict[str, str] = {}
    if field.help_text:
        ids.append(f"{field.id_for_label}-help")
    if length_limit(field):
        ids.append(f"{field.id_for_label}-limit")
    if error and field.errors:
        ids.append(f"{field.id_for_label}-error")
        attrs["aria-invalid"] = "true"
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    return field.as_widget(attrs=attrs)


@register.filter
def get_field(form, name: str):
    return form[name]


@register.filter
def page_url(listing, number):
    return listing.url(page=number)


# Keep in step with STEPS in static/frontend/run.js.
_STEP_LABELS = {
    "run": "Run",
    "download": "Reading the spreadsheet",
    "validate": "Checking the form",
    "version": "Storing the version",
    "app_user": "Preparing the app user",
    "form": "Sending the form",
    "attachments": "Uploading attachments",
    "publish": "Publishing the draft",
    "assign": "Giving the app user access",
    "done": "Done",
}


@register.filter
def step_label(step: str) -> str:
    return _STEP_LABELS.get(step, step)
