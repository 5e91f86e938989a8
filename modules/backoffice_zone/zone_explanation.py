# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Which zone an address is put in and why, in the words of the office"
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from .specificity import Location

EXPLAIN_MESSAGES = {
    'specificity': 'backoffice_zone.msg_explain_specificity',
    'priority': 'backoffice_zone.msg_explain_priority',
    'sequence': 'backoffice_zone.msg_explain_sequence',
    }


class Zone(metaclass=PoolMeta):
    __name__ = 'backoffice.zone'

    @classmethod
    def _explain_no_match(cls, matcher, location):
        """Why no rule matches location: what was looked up and, for an
        address without coordinates, the map zones it could not be put in"""
        Subdivision = Pool().get('country.subdivision')
        looked_up = [gettext('backoffice_zone.msg_explain_postal_code',
                code=location.postal_code)] if location.postal_code else []
        if location.city:
            looked_up.append(location.city)
        if location.subdivision is not None:
            looked_up.append(Subdivision(location.subdivision).rec_name)
        if looked_up:
            text = gettext('backoffice_zone.msg_explain_none_for',
                location=', '.join(looked_up))
        else:
            text = gettext('backoffice_zone.msg_explain_none')
        if ((location.longitude is None or location.latitude is None)
                and matcher.polygon_count):
            zones = sorted({cls(matcher.rules[i].zone).rec_name
                    for i in range(matcher.polygon_count)})
            text += ' ' + gettext(
                'backoffice_zone.msg_explain_no_coordinates',
                zones=', '.join(f'"{z}"' for z in zones[:5])
                + (', …' if len(zones) > 5 else ''))
        return text

    @classmethod
    def explain(cls, location, current=None, manual=False):
        """A sentence telling which zone matches location and why

        current: the zone stored on the address, mentioned when the rules
        give another one; manual: the zone was set by hand."""
        pool = Pool()
        Rule = pool.get('backoffice.zone.rule')
        matcher = cls.get_matcher()
        if matcher is None:
            return gettext('backoffice_zone.msg_explain_no_company')
        location = Location(*location)
        explanation = matcher.explain(location)
        if explanation is None:
            text = cls._explain_no_match(matcher, location)
            zone_id = None
        else:
            best = matcher.rules[explanation.best.rule]
            zone_id = best.zone
            rule = Rule(best.id)
            values = {
                'zone': rule.zone.rec_name,
                'rule': rule.description,
                'priority': rule.zone.priority,
                }
            if explanation.rival:
                rival = Rule(matcher.rules[explanation.rival.rule].id)
                values.update(
                    rival=rival.description,
                    rival_zone=rival.zone.rec_name,
                    rival_priority=rival.zone.priority)
                text = gettext(
                    EXPLAIN_MESSAGES[explanation.reason], **values)
            else:
                text = gettext('backoffice_zone.msg_explain_match', **values)
        current_id = current.id if current else None
        if manual:
            if current:
                return gettext('backoffice_zone.msg_explain_manual',
                    zone=current.rec_name, explanation=text)
            return gettext('backoffice_zone.msg_explain_manual_empty',
                explanation=text)
        if current_id != zone_id:
            if current:
                return gettext('backoffice_zone.msg_explain_outdated',
                    explanation=text, zone=current.rec_name)
            return gettext('backoffice_zone.msg_explain_outdated_empty',
                explanation=text)
        return text
