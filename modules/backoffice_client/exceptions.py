# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account_credit_limit.exceptions import (
    CreditLimitError as UpstreamCreditLimitError,
    CreditLimitWarning as UpstreamCreditLimitWarning)


class ClientValidationError(ValidationError):
    "A client profile, billing or delivery value that cannot be used"


class VATError(ClientValidationError):
    "A VAT or UID number with a wrong format or checksum"


class DuplicateVATError(ClientValidationError):
    "The VAT number of another active client"


class CreditLimitError(ClientValidationError):
    "A credit limit that cannot be used"


class CreditLimitExceededError(UpstreamCreditLimitError):
    "The upstream credit limit error, telling by how much it is exceeded"


class CreditLimitExceededWarning(UpstreamCreditLimitWarning):
    "The upstream credit limit warning, telling by how much it is exceeded"


class IBANError(ClientValidationError):
    "A bank account number that is not a valid IBAN"


class WindowError(ClientValidationError):
    "A preferred delivery window that does not fit"


class ZoneWindowWarning(UserWarning):
    "A change of the windows of a zone that leaves clients out"


class ContactError(ValidationError):
    "A contact of a client that cannot be saved"


class ContactAdminError(ContactError):
    "A client with portal logins would be left without Admin"


class PortalLoginError(UserError):
    "A portal login that cannot be created"


class RequestError(ValidationError):
    "An account request with values that cannot be used"


class RequestStateError(UserError):
    "An account request that was already validated"


class RequestDuplicateWarning(UserWarning):
    "An account request that matches existing clients"


class ClientBlockedError(UserError):
    "A sale for a blocked client"


class ServerFieldError(AccessError):
    "A client's value for a field that only the server writes"
