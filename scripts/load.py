#!/usr/bin/env python3
# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Load a supplier's data from CSV (and GeoJSON) files with proteus, or
export it back to the same files.

    load.py --database demo --config var/trytond.conf clients clients.csv
    load.py --url http://admin:secret@localhost:8000/demo/ all samples/
    load.py --database demo export clients clients.csv

Each row is created or updated by its key (a re-run changes nothing),
bad rows are reported as FILE:LINE: column NAME: reason with nothing of
their batch saved, and the exit status is 1 when a row failed (2 when a
file could not be read). See README.md, "Loading a supplier's data".
"""
import argparse
import contextlib
import sys
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_base import BATCH_SIZE, FileError, Session  # noqa: E402
from load_clients import (  # noqa: E402
    AddressLoader, ClientLoader, ContactLoader)
from load_pricing import PriceGroupLoader, RuleLoader  # noqa: E402
from load_products import CategoryLoader, ProductLoader  # noqa: E402
from load_zones import ZoneLoader, read_polygons  # noqa: E402

# kind: loader, the file name in a directory (load all, export all), in
# the order a directory is loaded (what a file names is loaded before it)
KINDS = {
    'zones': (ZoneLoader, 'zones.csv'),
    'categories': (CategoryLoader, 'categories.csv'),
    'products': (ProductLoader, 'products.csv'),
    'price-groups': (PriceGroupLoader, 'price_groups.csv'),
    'clients': (ClientLoader, 'clients.csv'),
    'addresses': (AddressLoader, 'addresses.csv'),
    'contacts': (ContactLoader, 'contacts.csv'),
    'price-rules': (RuleLoader, 'price_rules.csv'),
    }
POLYGONS = 'zones.geojson'
DEFAULTS = {'database': None, 'config': None, 'user': 'admin', 'url': None,
    'dry_run': False, 'batch_size': BATCH_SIZE}


def parse_args(argv, connection=True):
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: given after the command they override, else the main's stay
    options = common.add_argument_group("connection and run")
    options.add_argument('--database', default=argparse.SUPPRESS,
        help="the database name (or URI) to open with trytond directly")
    options.add_argument('--config', default=argparse.SUPPRESS,
        help="the trytond configuration file (with --database)")
    options.add_argument('--user', default=argparse.SUPPRESS,
        help="the login to work as with --database (default: admin)")
    options.add_argument('--url', default=argparse.SUPPRESS,
        help="a running server: http://user:password@host:port/database/")
    options.add_argument('--dry-run', action='store_true',
        default=argparse.SUPPRESS,
        help="check every row and report what would change, save nothing")
    options.add_argument('--batch-size', type=int, default=argparse.SUPPRESS,
        help=f"rows saved per call (default {BATCH_SIZE})")
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
        parents=[common])
    commands = parser.add_subparsers(dest='command', required=True)
    for kind in KINDS:
        sub = commands.add_parser(kind, parents=[common],
            help=f"load {kind} from a CSV file")
        sub.add_argument('file')
        add_kind_options(sub, kind)
    sub = commands.add_parser('all', parents=[common],
        help="load the files of a directory named as in scripts/samples")
    sub.add_argument('directory')
    sub = commands.add_parser('export', parents=[common],
        help="write the stored data in the CSV shape of the import")
    sub.add_argument('kind', choices=list(KINDS) + ['all'])
    sub.add_argument('file', help="the CSV file (a directory for all)")
    sub.add_argument('--polygons', help="zones: the GeoJSON file to write")
    args = parser.parse_args(argv)
    # not set_defaults: the options' actions are shared with the commands
    for name, default in DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    if connection and not (args.url or args.database):
        parser.error("give --database or --url")
    return args


def add_kind_options(parser, kind):
    if kind == 'zones':
        parser.add_argument('--polygons',
            help="a GeoJSON FeatureCollection of the zones' polygons")
    elif kind == 'clients':
        parser.add_argument('--addresses', help="their addresses (CSV)")
        parser.add_argument('--contacts', help="their contacts (CSV)")


def connect(args, stack):
    """The proteus configuration of --database or --url; a login in the
    URL opens one session for the run (a password sent with every call
    would be checked, hashing and all, at every call)"""
    from proteus import config
    if not args.url:
        return config.set_trytond(
            args.database, user=args.user, config_file=args.config)
    url = urllib.parse.urlsplit(args.url)
    # Tryton 8.0 answers RPC under /<database>/rpc/
    path = url.path if url.path.endswith('/rpc/') else (
        url.path.rstrip('/') + '/rpc/')
    netloc = url.hostname + (f':{url.port}' if url.port else '')
    plain = urllib.parse.urlunsplit(url._replace(netloc=netloc, path=path))
    if not url.username:
        return config.set_xmlrpc(plain)
    return stack.enter_context(config.set_xmlrpc_session(plain,
            urllib.parse.unquote(url.username),
            password=urllib.parse.unquote(url.password or '')))


def load_files(session, files):
    """Load [(kind, path, options)] in order; return the exit status"""
    for kind, path, options in files:
        loader_class, _ = KINDS[kind]
        if not session.has_model(loader_class.model):
            print(f"{path}: skipped, {loader_class.label} need a module "
                "that is not activated", file=session.err)
            continue
        if kind == 'zones' and options.get('polygons'):
            options = {'polygons': read_polygons(options['polygons'],
                    session)}
        loader_class(session, **options).load(path)
    return 1 if session.failed else 0


def files_of(args):
    "The [(kind, path, options)] the command loads"
    if args.command == 'all':
        directory = Path(args.directory)
        files = []
        for kind, (_, name) in KINDS.items():
            if (directory / name).exists():
                options = {}
                if kind == 'zones' and (directory / POLYGONS).exists():
                    options['polygons'] = str(directory / POLYGONS)
                files.append((kind, str(directory / name), options))
        return files
    options = {}
    if args.command == 'zones':
        options['polygons'] = args.polygons
    files = [(args.command, args.file, options)]
    if args.command == 'clients':
        files += [(k, getattr(args, k), {}) for k in ['addresses', 'contacts']
            if getattr(args, k)]
    return files


def export(session, args):
    if args.kind == 'all':
        directory = Path(args.file)
        directory.mkdir(parents=True, exist_ok=True)
        for kind, (loader_class, name) in KINDS.items():
            if not session.has_model(loader_class.model):
                continue
            loader = loader_class(session)
            if kind == 'zones':
                loader.export(directory / name, directory / POLYGONS)
            else:
                loader.export(directory / name)
        return 0
    loader = KINDS[args.kind][0](session)
    if args.kind == 'zones':
        loader.export(args.file, args.polygons)
    else:
        loader.export(args.file)
    return 0


def main(argv=None, config=None, out=sys.stdout, err=sys.stderr):
    """Run the command of argv; config: a proteus configuration to use
    instead of connecting (tests). Returns the exit status."""
    args = parse_args(argv, connection=config is None)
    with contextlib.ExitStack() as stack:
        session = Session(config or connect(args, stack),
            dry_run=args.dry_run, batch_size=args.batch_size, out=out,
            err=err)
        try:
            if args.command == 'export':
                return export(session, args)
            return load_files(session, files_of(args))
        except FileError as error:
            print(error, file=err)
            return 2


if __name__ == '__main__':
    sys.exit(main())
