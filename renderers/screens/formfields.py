"""Form fields for record screens, chosen by the field-type catalog's ``widget``.

The record service is the one judge of a record (types, ranges, required
fields, picklist values, uniqueness), so these fields only turn browser input
into Python values and mark what is required; they do not repeat its rules.
A field type added to the catalog with a known widget gets a form field here
without a change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_admin.model.fields import AjaxSelectField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import EmailInput, NumberInput, TelInput, URLInput

from trellis.metadata.model import FieldDef

from .i18n import lazy_label
from .lookups import RecordLoader

try:  # WTForms 3.3 deprecates (value, label) tuples as choices
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover - WTForms < 3.3 only knows tuples
    def _Choice(value: str, label: Any) -> Any:  # noqa: N802 - stands in for the class
        return (value, label)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class Required(InputRequired):
    """Marks a field required (asterisk, ``required`` attribute) and leaves the check to the record service."""

    def __call__(self, form: Any, field: Any) -> None:
        return None


def form_field(field: FieldDef, loaders: dict[str, RecordLoader]) -> UnboundField | None:
    """The WTForms field that edits ``field``, or None when the screens cannot edit it."""
    make = _BY_WIDGET.get(field.kind.widget)
    if make is None or field.kind.computed or (field.kind.widget == "lookup" and field.api_name not in loaders):
        return None
    kwargs: dict[str, Any] = {
        "label": lazy_label(field.label, field.api_name),
        "description": lazy_label(field.help_text, "") if field.help_text else "",
        "validators": [Required() if field.required else Optional()],
    }
    if field.kind.widget == "lookup":
        return make(field, kwargs, loaders)
    return make(field, kwargs)


def _choices(field: FieldDef, blank: bool) -> list[Any]:
    choices = [_Choice(c["value"], lazy_label(c.get("label"), c["value"])) for c in field.choices]
    return [_Choice("", "—"), *choices] if blank else choices


def _number(field: FieldDef, kwargs: dict[str, Any]) -> UnboundField:
    if field.kind.storage == "integer":
        return IntegerField(widget=NumberInput(step=1), **kwargs)
    return DecimalField(places=None, widget=NumberInput(step="any"), **kwargs)


def _checkbox(field: FieldDef, kwargs: dict[str, Any]) -> UnboundField:
    kwargs["validators"] = [Optional()]  # unticked is a value (False), never "missing"
    return BooleanField(**kwargs)


def _lookup(field: FieldDef, kwargs: dict[str, Any], loaders: dict[str, RecordLoader]) -> UnboundField:
    return AjaxSelectField(loaders[field.api_name], allow_blank=True, **kwargs)


def _text(widget: Any = None) -> Callable[[FieldDef, dict[str, Any]], UnboundField]:
    return lambda field, kwargs: StringField(widget=widget, **kwargs) if widget else StringField(**kwargs)


_BY_WIDGET: dict[str, Callable[..., UnboundField]] = {
    "text": _text(),
    "textarea": lambda field, kwargs: TextAreaField(render_kw={"rows": 4}, **kwargs),
    "number": _number,
    "checkbox": _checkbox,
    "date": lambda field, kwargs: DateField(**kwargs),
    "datetime": lambda field, kwargs: DateTimeLocalField(format=DATETIME_FORMAT, **kwargs),
    "email": _text(EmailInput()),
    "tel": _text(TelInput()),
    "url": _text(URLInput()),
    "select": lambda field, kwargs: SelectField(choices=_choices(field, blank=True), validate_choice=False,
                                                **kwargs),
    "multiselect": lambda field, kwargs: SelectMultipleField(choices=_choices(field, blank=False),
                                                             validate_choice=False, **kwargs),
    "lookup": _lookup,
    "rating": lambda field, kwargs: RadioField(choices=[_Choice(str(n), "★" * n) for n in range(1, 6)], coerce=int,
                                               validate_choice=False, render_kw={"class": "trellis-stars"}, **kwargs),
    "readonly": lambda field, kwargs: StringField(render_kw={"readonly": True},
                                                  label=kwargs["label"], description=kwargs["description"]),
}
