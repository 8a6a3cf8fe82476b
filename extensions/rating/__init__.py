"""The rating extension: a ``rating.stars`` field type, 1 to 5 stars, edited with a row of stars.

Enable it with PUT /metadata/extensions/rating ({"label": "Ratings"}), then add a field
``{"api_name": "satisfaction", "label": "Satisfaction", "type": "rating.stars"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trellis.extensions.api import Extension, fields, validate

extension = Extension("rating", "1.0.0", "Ratings", description="A 1-5 star rating field type.")

MAX_STARS = 5


def _stars(options: Mapping[str, Any]) -> fields.Field:
    return fields.Integer(strict=False, validate=validate.Range(
        min=1, max=MAX_STARS, error=f"Give from 1 to {MAX_STARS} stars."))


extension.field_type("stars", storage="integer", widget="rating", make_field=_stars, label="Rating (1-5 stars)",
                     filter_ops=("eq", "ne", "blank", "lt", "lte", "gt", "gte"))
