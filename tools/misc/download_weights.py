"""Download a released checkpoint, check it, convert it when needed and say which config uses it.

    python tools/misc/download_weights.py NAME [--out-dir checkpoints] [--timeout S]
                                          [--sha256 HEX] [--mirror URL] [--no-convert]
    python tools/misc/download_weights.py --list [--markdown]   # the names (a markdown table)

NAME is one of ``--list`` (e.g. ``transxnet_t_in1k``, ``retinanet_transxnet_t_coco``,
``dfformer_s18_in1k``). The file lands in ``--out-dir`` (default ``checkpoints/``, where the
configs look) only when complete (its size equals the server's Content-Length) and, where a
checksum is known (or given with ``--sha256``, 8-64 hex digits), verified; a server that sends
nothing for ``--timeout`` seconds stops the download. ``<file>.source.json`` beside it records
the URL, SHA-256 and what was verified: a later run reuses the file only for the same URL or a
checksum it matches, and never replaces a file it did not download. The file is then read
weights-only (never unpickling code; a refused file is deleted) and, for an ImageNet
classifier, checked key by key against our model. Whole detector/segmentor files are
converted with the family's converter (``tools/model_converters/``) and checked against their
config. ``--mirror URL`` fetches the
same file name from another server (a local mirror, or a test server).
"""

import argparse
import os.path as osp
import subprocess
import sys

from mmtokenmix.checkpoints import (
    check_state_dict,
    download_checkpoint,
    extract_state_dict,
    forget_download,
    load_checkpoint_file,
)
from mmtokenmix.checkpoints.downloads import download_timeout, parse_sha256, read_source_record
from mmtokenmix.checkpoints.files import CheckpointFileError, file_sha256
from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS, find_official_checkpoint

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONVERTERS = dict(transxnet='transxnet2mmtokenmix.py', dfformer='dfformer2mmtokenmix.py')


def _parameter_counts() -> dict:
    from mmtokenmix.model_index import load_model_index

    return {e['Name']: e['Metadata']['Parameters'] for e in load_model_index()}


def terminal_listing(width: int = 100) -> str:
    """One line per released checkpoint, at most ``width`` columns: name, parameters, what it
    is, and whether it is converted for its config."""
    params = _parameter_counts()
    name_width = max(len(c.name) for c in OFFICIAL_CHECKPOINTS.values())
    lines = [f'{"name":{name_width}}  {"params":>7}  model']
    for c in OFFICIAL_CHECKPOINTS.values():
        count = params.get(c.index_name)
        what = c.what + (' (converted)' if c.converter else '')
        line = f'{c.name:{name_width}}  {f"{count / 1e6:.1f} M" if count else "—":>7}  {what}'
        lines.append(line if len(line) <= width else line[: width - 3] + '...')
    lines.append(
        'Download one: download_weights.py NAME; files, checksums, configs: --list --markdown'
    )
    return '\n'.join(lines)


def markdown_table() -> str:
    """The table of released checkpoints (docs/checkpoints.md shows this)."""
    params = _parameter_counts()
    lines = [
        '| name | file | model | parameters (≥ MB float32) | SHA-256 | converter | configs |',
        '|---|---|---|---|---|---|---|',
    ]
    for c in OFFICIAL_CHECKPOINTS.values():
        count = params.get(c.index_name)
        size = f'{count / 1e6:.2f} M ({count * 4 / 2**20:.0f} MB)' if count else '—'
        configs = ', '.join(f'`{osp.basename(p)[:-3]}`' for p in c.configs) or c.notes or '—'
        lines.append(
            f'| `{c.name}` | [{c.file_name}]({c.url}) | {c.what} | {size} | '
            f'{"`" + c.sha256 + "...`" if c.sha256 else "not published"} | '
            f'{c.converter or "—"} | {configs} |'
        )
    return '\n'.join(lines)


def check_classifier_weights(entry, path: str) -> None:
    """A strict key/shape check of an ImageNet file against our timm classifier."""
    from mmtokenmix.model_index import load_model_index

    timm_name = next(
        (e['Metadata'].get('timm') for e in load_model_index() if e['Name'] == entry.index_name),
        None,
    )
    if not timm_name:
        return
    import timm

    import mmtokenmix.models  # noqa: F401  (registers the timm names)

    check_state_dict(
        timm.create_model(timm_name), extract_state_dict(load_checkpoint_file(path)), source=path
    )
    print(f'checked: every key and shape fits timm model {timm_name!r}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('name', nargs='?', help='which checkpoint (see --list)')
    parser.add_argument(
        '--list', action='store_true', help='print the released checkpoints, one line each'
    )
    parser.add_argument(
        '--markdown',
        action='store_true',
        help='--list as the markdown table of docs/checkpoints.md (files, '
        'checksums, converters, configs)',
    )
    parser.add_argument('--out-dir', default='checkpoints', help='where files go')
    parser.add_argument(
        '--timeout',
        type=float,
        default=None,
        help='seconds to wait to connect or for the next bytes (default '
        'MMTOKENMIX_DOWNLOAD_TIMEOUT or 60)',
    )
    parser.add_argument('--sha256', help='verify the file against this SHA-256 (or a prefix)')
    parser.add_argument('--mirror', help='download the same file name from this base URL')
    parser.add_argument(
        '--no-convert', action='store_true', help='keep the official file only (no conversion)'
    )
    args = parser.parse_args(argv)
    if args.list:
        print(markdown_table() if args.markdown else terminal_listing())
        return
    if not args.name:
        parser.error('give a NAME (see --list)')
    try:
        entry = find_official_checkpoint(args.name)
    except KeyError as e:
        parser.error(e.args[0])
    if args.sha256 is not None:
        try:
            args.sha256 = parse_sha256(args.sha256)
        except ValueError as e:
            parser.error(f'--sha256: {e}')
    url = f'{args.mirror.rstrip("/")}/{entry.file_name}' if args.mirror else entry.url
    timeout = download_timeout() if args.timeout is None else args.timeout
    print(f'{entry.name}: {entry.what}\n  from {url}')
    try:
        path = download_checkpoint(
            url,
            cache_dir=args.out_dir,
            timeout=timeout,
            sha256=args.sha256 or entry.sha256,
            file_name=entry.file_name,
        )
    except CheckpointFileError as e:
        sys.exit(f'error: {e}')
    try:
        load_checkpoint_file(path, allow_unsafe=False)
    except CheckpointFileError as e:
        if forget_download(path):  # ours (it has our record): a refused file is not kept
            sys.exit(f'error: {e} (the downloaded file was deleted)')
        sys.exit(f'error: {e}')
    known, record = args.sha256 or entry.sha256, read_source_record(path) or {}
    checked = (
        f'verified against {known}'
        if known
        else record.get('checked', 'no published checksum to verify')
    )
    # the record's SHA-256 is the file's: download_checkpoint has just checked that
    print(f'  saved {path} (SHA-256 {record.get("sha256") or file_sha256(path)}; {checked})')
    if entry.converter is None:
        check_classifier_weights(entry, path)
        for config in entry.configs:
            print(f'used by: {config}')
        if entry.notes:
            print(f'use: {entry.notes}')
        return
    if args.no_convert:
        print(
            f'not converted (--no-convert); convert with tools/model_converters/'
            f'{CONVERTERS[entry.converter]}'
        )
        return
    converted = osp.join(args.out_dir, osp.basename(entry.converted_as))
    config = entry.configs[0]
    # the configs sit next to tools/ (a checkout, or mmtokenmix/.mim/ of an installed package)
    config_file = osp.join(osp.dirname(TOOLS), config)
    done = subprocess.run(
        [
            sys.executable,
            osp.join(TOOLS, 'model_converters', CONVERTERS[entry.converter]),
            path,
            converted,
            '--config',
            config_file,
        ]
    )
    if done.returncode:
        sys.exit(f'error: converting {path} failed (see above); the official file is kept')
    print(f'evaluate with: python tools/test.py {config} {converted}')


if __name__ == '__main__':
    main()
