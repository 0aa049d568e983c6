"""Write requirements/lock.txt: every package of the running environment at its version.

    source tools/setup_env.sh && python tools/misc/lock_stack.py [--check]

Run it in an environment freshly set up from requirements/stack.txt after changing a pin; the
next set-up installs exactly these versions (``pip install --no-deps -r requirements/lock.txt``)
and then checks requirements/stack.txt against them. Left out: this package (installed from
the checkout), mmcv (compiled by the set-up for the machine) and pip's own tools. ``--check``
writes nothing and exits non-zero, listing the differences, when the environment is not exactly
the lock.
"""

import argparse
import os.path as osp
import re
import sys
import sysconfig
from importlib.metadata import distributions

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LOCK = osp.join(REPO, 'requirements', 'lock.txt')
#: not locked: built or installed from source by the set-up, or pip's own tools
UNLOCKED = {'mmtokenmix', 'mmcv', 'pip', 'setuptools', 'wheel'}
HEADER = (
    '# The whole resolved stack, one version per package (written by '
    'tools/misc/lock_stack.py;\n# tools/setup_env.sh installs it with --no-deps, then '
    'checks requirements/stack.txt).\n'
)


def canonical(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def site_package_dirs() -> list:
    """The environment's site-packages folders: this venv's and, in a checkout's venv, the
    stack venv's behind it (not every sys.path entry: setuptools puts its vendored packages'
    metadata on sys.path once imported)."""
    own = [sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']]
    stack = [p for p in sys.path if osp.basename(p) == 'site-packages']
    return list(dict.fromkeys(own + stack))  # in import order, each once


def installed() -> dict:
    """{name: version} of the environment's site-packages (the first of a name wins, as for
    imports)."""
    found = {}
    for dist in distributions(path=site_package_dirs()):
        name = canonical(dist.metadata['Name'])
        if name not in UNLOCKED:
            found.setdefault(name, dist.version)
    return found


def read_lock(path: str = LOCK) -> dict:
    locked = {}
    with open(path) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                name, _, ver = line.partition('==')
                locked[canonical(name)] = ver
    return locked


def differences(have: dict, locked: dict) -> list:
    out = [
        f'{n}: installed {have[n]}, locked {locked[n]}'
        for n in sorted(set(have) & set(locked))
        if have[n] != locked[n]
    ]
    out += [f'{n}: installed {have[n]}, not locked' for n in sorted(set(have) - set(locked))]
    out += [f'{n}: locked {locked[n]}, not installed' for n in sorted(set(locked) - set(have))]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check', action='store_true', help='compare the environment with the lock; write nothing'
    )
    args = parser.parse_args(argv)
    have = installed()
    if args.check:
        diff = differences(have, read_lock())
        if diff:
            sys.exit('the environment is not requirements/lock.txt:\n  ' + '\n  '.join(diff))
        print(f'the environment is exactly requirements/lock.txt ({len(have)} packages)')
        return
    with open(LOCK, 'w') as f:
        f.write(HEADER + ''.join(f'{n}=={v}\n' for n, v in sorted(have.items())))
    print(f'wrote {LOCK} ({len(have)} packages)')


if __name__ == '__main__':
    main()
