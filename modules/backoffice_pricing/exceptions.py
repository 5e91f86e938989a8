# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import ValidationError


class RuleValidationError(ValidationError):
    "A rule value that cannot be saved (sign, range, dates, unit, company)"


class RuleOverlapError(ValidationError):
    "Two rules that would compete for the same prices at the same date"


class PriceGroupCompanyError(ValidationError):
    "A price group moved to another company than its rules'"


class BulkUpdateError(UserError):
    "A bulk update that would give a rule an invalid value"


class ExplainError(UserError):
    "Explain Price asked without client, product or date, or a wrong unit"


class CopyRulesError(UserError):
    "Rules that cannot be copied to a client"


class CopyRulesWarning(UserWarning):
    "Copying rules replaces rules the client already has"
