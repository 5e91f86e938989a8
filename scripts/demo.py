# This file is part of BackOffice for Tryton.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Build (once) and serve the demo database with Tryton's web client.

Run through scripts/demo, which prepares the virtualenv first.
"""
import argparse
import fcntl
import hashlib
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAO_SPEC = 'tryton-sao@~8.0'
DATABASE = 'backoffice'
SUITE = [
    'backoffice_zone',
    'backoffice_client',
    'backoffice_pricing',
    'backoffice_order',
    'backoffice_fleet',
    ]
ADMIN_EMAIL = 'admin@example.com'


class DemoError(Exception):
    "A failure the user can fix; printed as one line, no traceback"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog='scripts/demo',
        description="Serve the BackOffice demo (Tryton web client and data) "
        "on SQLite.")
    parser.add_argument('--reset', action='store_true',
        help="drop the demo database and build it again")
    parser.add_argument('--port', type=int, default=8000,
        help="loopback port to serve on (default: 8000)")
    parser.add_argument('--var', type=Path, default=ROOT / 'var',
        help="folder for the database and the settings (default: var/; "
        "the web client always sits in var/sao)")
    parser.add_argument('--build-only', action='store_true',
        help="build or update the database and the web client, then exit")
    return parser.parse_args(argv)


def check_port(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            raise DemoError(
                f"port {port} on 127.0.0.1 is already in use (another "
                f"server?): stop it, or run scripts/demo --port {port + 1}")


def run(cmd, what, **kwargs):
    "Run cmd; on failure show its output and raise DemoError"
    result = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        **kwargs)
    if result.returncode:
        sys.stderr.write(result.stdout[-12000:])
        raise DemoError(f"{what} failed (output above)")
    return result.stdout


def install_sao():
    "Unpack the web client from the npm registry with its runtime packages"
    var = ROOT / 'var'
    var.mkdir(exist_ok=True)
    root = var / 'sao'
    if (root / 'index.html').exists() and (root / 'node_modules').is_dir():
        return root
    if not shutil.which('npm'):
        raise DemoError(
            "npm is missing: install Node.js and npm (Debian: apt-get install "
            "npm) to fetch the web client")
    print(f"Installing the web client {SAO_SPEC} ...", flush=True)
    with tempfile.TemporaryDirectory(dir=var) as tmp:
        tmp = Path(tmp)
        name = run(['npm', 'pack', '--silent', SAO_SPEC],
            f"npm pack {SAO_SPEC}", cwd=tmp).strip().splitlines()[-1]
        with tarfile.open(tmp / name) as archive:
            archive.extractall(tmp, filter='data')
        package = tmp / 'package'
        # Its dev dependencies have a peer conflict; only runtime ones serve.
        run(['npm', 'install', '--omit=dev', '--legacy-peer-deps',
                '--no-audit', '--no-fund'],
            "npm install of the web client", cwd=package)
        shutil.rmtree(root, ignore_errors=True)
        package.rename(root)
    return root


def write_config(var, port, sao):
    config = var / 'trytond.conf'
    config.write_text(
        "[database]\n"
        "uri = sqlite://\n"
        f"path = {var / 'db'}\n"
        "\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        f"root = {sao}\n"
        "\n"
        # Every clean_timeout seconds trytond 8.0 syncs its caches through
        # the SQLite connection of the request that starts, which switches
        # it to autocommit: a request that fails would keep what it wrote.
        # The demo is one server process, with nothing to sync.
        "[cache]\n"
        "clean_timeout = 1000000000\n")
    return config


def admin_password(var):
    path = var / 'admin-password'
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + '\n')
        path.chmod(0o600)
    return path


def modules_hash():
    "Fingerprint of the suite's code, to update a database built from older"
    digest = hashlib.sha1()
    for path in sorted((ROOT / 'modules').rglob('*')):
        if path.suffix in {'.py', '.xml', '.cfg'} and 'tests' not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_database(path):
    "Raise DemoError when the database file cannot serve"
    fix = "rebuild it with: scripts/demo --reset"
    try:
        # immutable: nobody writes it while var/ is locked, and a plain
        # read-only open of a WAL database leaves -shm and -wal files behind
        connection = sqlite3.connect(
            f'file:{path}?mode=ro&immutable=1', uri=True)
        try:
            status, = connection.execute('PRAGMA quick_check').fetchone()
            if status != 'ok':
                raise sqlite3.DatabaseError(status)
            activated = {name for name, in connection.execute(
                        "SELECT name FROM ir_module WHERE state = 'activated'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exception:
        raise DemoError(
            f"the demo database {path} is damaged ({exception}): {fix}")
    if 'backoffice_zone' not in activated:
        raise DemoError(
            f"{path} is not a BackOffice demo database: {fix}")


def admin(config, database, *args, password=None):
    env = dict(os.environ)
    if password:
        env['TRYTONPASSFILE'] = str(password)
    run([BIN / 'trytond-admin', '-c', config, '-d', database, *args],
        f"trytond-admin {' '.join(args)}", env=env)


def build_database(var, config, password):
    "Build the demo database under a temporary name, then move it in place"
    db_dir = var / 'db'
    building = db_dir / f'{DATABASE}-build.sqlite'
    building.unlink(missing_ok=True)
    building.touch()
    print("Creating the demo database (a few minutes) ...", flush=True)
    admin(config, building.stem, '--all', '--email', ADMIN_EMAIL,
        password=password)
    run([sys.executable, ROOT / 'scripts' / 'demo_setup.py',
            '--config', config, '--database', building.stem,
            '--password-file', password],
        "loading the demo data")
    check_database(building)
    building.rename(db_dir / f'{DATABASE}.sqlite')


def lock_var(var):
    """Hold var/ for this run (and the server it becomes): two builds in one
    file would damage it"""
    lock = (var / 'db' / '.lock').open('w')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise DemoError(
            f"another scripts/demo is building or serving {var}: stop it "
            "first, or give this one another folder with --var")
    return lock


def main(argv=None):
    args = parse_args(argv)
    var = args.var.resolve()
    (var / 'db').mkdir(parents=True, exist_ok=True)
    held = lock_var(var)
    if not args.build_only:
        check_port(args.port)
    sao = install_sao()
    config = write_config(var, args.port, sao)
    password = admin_password(var)
    database = var / 'db' / f'{DATABASE}.sqlite'
    stamp = var / 'db' / f'{DATABASE}.modules'
    if args.reset:
        database.unlink(missing_ok=True)
    if database.exists():
        check_database(database)
        if stamp.read_text() != modules_hash():
            print("Updating the demo database to the current modules ...",
                flush=True)
            admin(config, DATABASE, '--activate-dependencies', '-u', *SUITE)
    else:
        build_database(var, config, password)
    stamp.write_text(modules_hash())
    if args.build_only:
        return
    print(
        f"\nBackOffice demo: http://127.0.0.1:{args.port}/\n"
        f"  database: {DATABASE}   login: admin   "
        f"password: {password.read_text().strip()}\n"
        "  staff logins with the same password: office (Sales), "
        "manager (all back-office groups)\n"
        "  (Ctrl-C stops the server)\n", flush=True)
    os.set_inheritable(held.fileno(), True)
    os.execv(BIN / 'trytond', [
            'trytond', '-c', str(config), '-d', DATABASE])


if __name__ == '__main__':
    try:
        main()
    except DemoError as exception:
        sys.exit(f"scripts/demo: {exception}")
    except KeyboardInterrupt:
        sys.exit(130)
