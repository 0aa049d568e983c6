from .base import DenseBackbone
from .transxnet import TransXNet, TransXNetBlock

__all__ = ['DenseBackbone', 'TransXNet', 'TransXNetBlock']
