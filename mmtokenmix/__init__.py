"""mmtokenmix: token-mixer backbones (TransXNet, DFFormer, XFormer, DMFormer) for OpenMMLab 2.x.

Importing this package is cheap; ``import mmtokenmix.models`` registers the backbones.
"""
__version__ = '0.1.0'
