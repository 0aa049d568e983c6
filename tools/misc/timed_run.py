"""Run a command, time it, and add its row to a log table of the docs (set-up and test timings).

    python tools/misc/timed_run.py [--note TEXT] [--doc PAGE SECTION] -- COMMAND [ARG ...]

The command runs in the current directory with its output passed through. The row holds the
date, the commit checked out (``+changes`` when the tree differs from it), ``--note`` (what
the machine had: caches, other load), the command, its exit status with pytest's closing
summary when it printed one (``N passed, M failed ...``), and the wall time. ``--doc`` puts the
row at the top of the table in the generated section SECTION of the markdown PAGE, under a
provenance line, and keeps the rows this tool wrote there before. The exit status is the
command's.
"""

import argparse
import collections
import re
import shlex
import subprocess
import sys
import time

from mmtokenmix.analysis.generated_docs import (
    add_doc_option,
    check_doc_option,
    format_duration,
    read_section,
    write_doc_option,
)

HEADER = '| date | commit | machine | command | result | wall time |\n|---|---|---|---|---|---|'
#: pytest's closing line, e.g. ``==== 3 passed, 1 skipped in 12.3s (0:00:12) ====``
PYTEST_SUMMARY = re.compile(r'=+ (.*\d+ (?:passed|failed|errors?).*?) in [\d.]+s')


def checked_out_commit() -> str:
    """The short hash of HEAD, with ``+changes`` when the working tree differs from it."""
    try:
        commit = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ['git', 'status', '--porcelain', '--untracked-files=no'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'no git checkout'
    return commit + ('+changes' if dirty else '')


def run_passing_output_through(command: list) -> tuple:
    """(exit status, seconds, pytest's closing summary or None) of ``command``."""
    last_lines = collections.deque(maxlen=50)
    start = time.monotonic()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors='replace'
    ) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            last_lines.append(line)
    seconds = time.monotonic() - start
    summaries = [m.group(1) for m in map(PYTEST_SUMMARY.search, last_lines) if m]
    return process.returncode, seconds, summaries[-1] if summaries else None


def table_rows(section_body: str) -> list:
    """The rows of the table in a section this tool wrote (none in an empty section)."""
    lines = section_body.splitlines()
    if HEADER.splitlines()[0] not in lines:
        return []
    start = lines.index(HEADER.splitlines()[0]) + 2
    return [line for line in lines[start:] if line.startswith('| ')]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--note', default='', help='what the machine had (caches, other load)')
    add_doc_option(parser, 'the row')
    parser.add_argument('command', nargs=argparse.REMAINDER, help='-- COMMAND [ARG ...]')
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('no command given (put it after --)')
    check_doc_option(parser, args.doc)
    commit = checked_out_commit()
    try:
        rc, seconds, summary = run_passing_output_through(command)
    except OSError as e:
        parser.error(f'cannot run {command[0]!r}: {e}')
    result = f'exit {rc}' + (f': {summary}' if summary else '')
    shown = shlex.join(command).replace('|', '\\|')
    row = (
        f'| {time.strftime("%Y-%m-%d")} | {commit} | {args.note.replace("|", "/") or "-"} '
        f'| `{shown}` | {result} | {format_duration(seconds)} |'
    )
    print(row)
    if args.doc:
        rows = [row, *table_rows(read_section(*args.doc))]
        write_doc_option(args.doc, '\n'.join([HEADER, *rows]), argv, __file__)
    return rc


if __name__ == '__main__':
    sys.exit(main())
