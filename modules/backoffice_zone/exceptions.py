# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserWarning
from trytond.model.exceptions import AccessError, ValidationError


class ZoneValidationError(ValidationError):
    "A zone field with a value that cannot be used"


class ZoneCodeError(ZoneValidationError):
    "Two zones of a company with the same code"


class RulePatternError(ZoneValidationError):
    "A malformed or reversed postal code pattern"


class RuleGeometryError(ZoneValidationError):
    "A polygon that is not valid GeoJSON, not valid or out of range"


class WindowError(ZoneValidationError):
    "A delivery window that ends before it starts, overlaps or is on a day off"


class AddressCoordinatesError(ValidationError):
    "Coordinates out of range or incomplete"


class RuleOverlapWarning(UserWarning):
    "Two rules of different zones tie: only the zone sequence decides"


class ValueCheckError(ValidationError):
    "A value of the wrong type, not finite, out of bounds or linking nothing"


class CompanyContextError(AccessError):
    "A request whose context company is not one of the user's companies"
