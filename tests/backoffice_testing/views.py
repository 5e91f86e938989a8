# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The check, for every module of the suite, that Tryton's clients can draw
each of its views"""
from lxml import etree

from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction

__all__ = ['ClientWidgetsTestMixin']


# The widgets that Tryton 8.0's clients draw, per view type (SAO's
# Sao.View.TreeXMLViewParser.WIDGETS and FormXMLViewParser.WIDGETS; the
# desktop client's lists lack the same): a list column of any other widget
# breaks the whole view in the browser ("ColumnFactory is not a
# constructor") while the server validates it.
CLIENT_WIDGETS = {
    'tree': {
        'binary', 'boolean', 'callto', 'char', 'date', 'dict', 'email',
        'float', 'image', 'integer', 'many2many', 'many2one', 'numeric',
        'one2many', 'one2one', 'progressbar', 'reference', 'selection',
        'multiselection', 'sip', 'text', 'time', 'timedelta', 'url'},
    'form': {
        'binary', 'boolean', 'callto', 'char', 'color', 'date', 'datetime',
        'dict', 'document', 'email', 'float', 'html', 'image', 'integer',
        'many2many', 'many2one', 'multiselection', 'numeric', 'one2many',
        'one2one', 'password', 'progressbar', 'pyson', 'reference',
        'richtext', 'selection', 'sip', 'text', 'time', 'timedelta',
        'timestamp', 'url'},
    }


class ClientWidgetsTestMixin:
    "Every field of the module's views has a widget both clients can draw"

    @with_transaction()
    def test_views_client_widgets(self):
        pool = Pool()
        View = pool.get('ir.ui.view')
        for view in View.search([('module', '=', self.module)]):
            if not view.model:
                continue
            Model = pool.get(view.model)
            result = Model.fields_view_get(view.id)
            widgets = CLIENT_WIDGETS.get(result['type'])
            if widgets is None:
                continue
            arch = etree.fromstring(result['arch'])
            for element in arch.iter('field'):
                name = element.get('name')
                widget = (element.get('widget')
                    or result['fields'][name]['type'])
                with self.subTest(view=view.name, field=name):
                    self.assertIn(widget, widgets,
                        msg=f"{view.model} {result['type']} view "
                        f"{view.name!r}: field {name!r} as {widget!r} "
                        "cannot be drawn by the clients")
