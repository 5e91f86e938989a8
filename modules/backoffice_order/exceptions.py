# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class SchemeError(ValidationError):
    "A fulfilment scheme whose stages cannot drive orders"


class StageError(ValidationError):
    "A stage that cannot be saved"


class StageInUseError(AccessError):
    "A stage that still holds orders"


class TransitionError(ValidationError):
    "An allowed transition that cannot be saved"


class StageMoveError(UserError):
    "A move of an order to a stage that is refused"


class StageGateError(StageMoveError):
    "A move into a gated stage by a user outside its group"


class StageChangedError(StageMoveError):
    "A move of an order that someone else moved meanwhile"


class LinesLockedError(AccessError):
    "An edit of the lines of an order whose stage forbids it"


class DiscountError(ValidationError):
    "A discount that cannot be given"


class SplitError(UserError):
    "A split of an order that cannot be done"


class ActivityReadOnlyError(AccessError):
    "A client's create, write or delete of the timeline of an order"


class ChangeStageInputError(UserError):
    "Change Stage given no stage or stages it did not show"


class BoardRequestError(UserError):
    "A request of the board page that the board cannot answer"
