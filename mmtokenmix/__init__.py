"""mmtokenmix: token-mixer backbones (TransXNet, DFFormer, XFormer, DMFormer) for OpenMMLab 2.x.

Importing this package is cheap; ``import mmtokenmix.models`` registers the backbones.
"""

import re
from typing import Tuple, Union

__version__ = '0.1.0'


def parse_version_info(version: str) -> Tuple[Union[int, str], ...]:
    """``'0.1.0'`` -> ``(0, 1, 0)``; a pre-release part stays a string: ``'1.0.0rc1'`` ->
    ``(1, 0, 0, 'rc1')`` (as mmdet's ``version_info``)."""
    info = []
    for part in version.split('.'):
        number, rest = re.match(r'(\d*)(.*)', part).groups()
        info += ([int(number)] if number else []) + ([rest] if rest else [])
    return tuple(info)


version_info = parse_version_info(__version__)

__all__ = ['__version__', 'version_info', 'parse_version_info']
