"""Print MixerNet's width search: per parameter budget and token mixer, the width unit whose
variant comes closest to the budget, its stage widths and parameter count, and where the
mixer catalogue holds another unit (after a mixer changed: copy the unit into the catalogue).

    python tools/analysis_tools/mixer_widths.py
"""

import argparse

import mmtokenmix.models  # noqa: F401 (registers the backbones)
from mmtokenmix.models.backbones.mixernet import width_search_lines


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    for line in width_search_lines():
        print(line)


if __name__ == '__main__':
    main()
