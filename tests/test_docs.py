"""The docs name only what exists: every file and folder docs/architecture.md names (its module
tree and the backticked paths of its text) is in the checkout."""

import os.path as osp
import re

from conftest import REPO

ARCHITECTURE = osp.join(REPO, 'docs', 'architecture.md')
DESCRIPTION_COLUMN = 16  # the tree's entries are indented less, its descriptions more
FILE_NAME = re.compile(r'^[\w.-]+(\.(py|sh|md|yml|txt)|/)$')


def tree_paths(text: str):
    """Paths of the module tree (the fenced block that starts with ``mmtokenmix/``): an entry
    is the first word of a line (and further file names before its description), nested by
    indentation; lines indented to the description column continue a description, and a file
    name in a description (``hooks.py: ...``) is one of the described folder (or of the
    described file's folder)."""
    block = text.split('```\nmmtokenmix/\n', 1)[1].split('```', 1)[0]
    stack = [(-1, 'mmtokenmix')]
    paths, described = [], 'mmtokenmix'
    for line in block.splitlines():
        words = line.split()
        indent = len(line) - len(line.lstrip())
        entry = words and indent < DESCRIPTION_COLUMN and FILE_NAME.match(words[0])
        if entry:
            while stack[-1][0] >= indent:
                stack.pop()
            parent = '/'.join(name for _, name in stack)
            for i, word in enumerate(words):  # 'a.py  b.py (...)  c.py': every name
                if FILE_NAME.match(word):
                    paths.append(f'{parent}/{word.rstrip("/")}')
                elif not word.startswith('('):
                    words = words[i:]
                    break
            else:
                words = []
            described = parent
            if line.split()[0].endswith('/'):
                stack.append((indent, line.split()[0].rstrip('/')))
                described = f'{parent}/{line.split()[0].rstrip("/")}'
        for word in words:  # file names in the description
            name = word.strip(',;:()')
            if re.match(r'^\w+\.py$', name) and word[0] != '(':
                paths.append(f'{described}/{name}')
    return paths


def backticked_paths(text: str):
    """Backticked relative paths of the text (templates with <...> and globs left out)."""
    for token in re.findall(r'`([^`\s]+)`', text):
        if (
            '/' in token
            and not re.search(r'[<*{=:(]', token)
            and re.search(r'(\.(py|sh|md|yml|txt)|/)$', token)
        ):
            yield token


def test_every_path_architecture_md_names_exists():
    text = open(ARCHITECTURE).read()
    tree = tree_paths(text)
    assert 'mmtokenmix/models/backbones/base.py' in tree  # the parser reads the tree
    assert 'mmtokenmix/models/mixers/catalogue.py' in tree
    missing = [p for p in tree if not osp.exists(osp.join(REPO, p))]
    for path in backticked_paths(text):
        # (the text names files under the folder it is about: tools/, configs/_base_/)
        roots = ('', 'mmtokenmix', 'tools', 'configs', 'configs/_base_')
        if not any(osp.exists(osp.join(REPO, root, path)) for root in roots):
            missing.append(path)
    assert not missing
