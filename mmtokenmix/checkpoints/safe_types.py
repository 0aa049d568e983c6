"""The data types, besides tensors and containers, that a checkpoint may hold when it is read
weights-only, and bounded constructors for the NumPy ones.

Resume checkpoints carry NumPy arrays and scalars (mmengine's log history, the RNG states our
checkpoint hook stores) and timm training files carry the run's ``argparse.Namespace``. Putting
NumPy's own functions on torch's allow-list is not enough to keep a hostile file harmless:
``numpy._core.multiarray._reconstruct(ndarray, shape, dtype)`` allocates whatever ``shape``
asks for (a 1 kB file can ask for gigabytes), ``numpy.ndarray(shape)`` does the same, and an
object-dtype array's ``__setstate__`` with a short item list crashes the interpreter
(segmentation fault, NumPy 2.1). So the names a NumPy pickle uses are bound to the functions
below instead, which accept exactly what NumPy itself writes -- ``_reconstruct(ndarray, (0,),
b'b')`` followed by a state whose byte string has the size its shape and dtype need,
``scalar(dtype, bytes)``, ``dtype(str, bool, bool)`` of a dtype without Python objects -- and
refuse everything else with :class:`pickle.UnpicklingError`. Arrays are rebuilt from their bytes
after unpickling (:func:`materialise_arrays`).
"""

import argparse
import math
import pickle
from typing import Any, List

import numpy as np

# dtypes that hold Python objects (or variable-size strings that do) are never rebuilt
_EXCLUDED_DTYPE_CLASSES = ('ObjectDType', 'VoidDType', 'StringDType')
_MODULES = ('numpy._core.multiarray', 'numpy.core.multiarray')  # NumPy 2.x, 1.x names


def _refuse(what: str):
    raise pickle.UnpicklingError(f'refusing a NumPy object the file builds: {what}')


def _plain_dtype(dtype) -> np.dtype:
    if (
        not isinstance(dtype, np.dtype)
        or dtype.hasobject
        or type(dtype).__name__ in _EXCLUDED_DTYPE_CLASSES
    ):
        _refuse(f'dtype {dtype!r} (only numeric, bool and fixed-size string dtypes)')
    return dtype


class _Name:
    """Stands in for a class a NumPy pickle only names (``numpy.ndarray``, the first argument
    of ``_reconstruct``); calling or instantiating it fails."""

    def __init__(self, module: str, name: str):
        self.__module__, self.__name__ = module, name

    def __repr__(self):
        return f'{self.__module__}.{self.__name__}'

    def __call__(self, *args, **kwargs):
        _refuse(f'{self!r}{args!r}: a NumPy pickle only names this class')


_NDARRAY = _Name('numpy', 'ndarray')


class ArrayState:
    """What ``_reconstruct`` returns: the array's shape, dtype and bytes once the pickle's
    BUILD has set them (:meth:`__setstate__` checks they agree); :func:`materialise_arrays`
    replaces it by the array."""

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            _refuse('an array state that is not (version, shape, dtype, fortran, bytes)')
        _, shape, dtype, fortran, data = state
        dtype = _plain_dtype(dtype)
        if not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape)):
            _refuse(f'array shape {shape!r}')
        if (
            not isinstance(data, (bytes, bytearray))
            or len(data) != math.prod(shape) * dtype.itemsize
        ):
            _refuse(
                f'an array of shape {shape} and dtype {dtype} whose data is not its '
                f'{math.prod(shape) * dtype.itemsize} bytes'
            )
        self.array = (
            np.frombuffer(bytes(data), dtype=dtype)
            .reshape(shape, order='F' if fortran else 'C')
            .copy(order='K')
        )


def _make_reconstruct(module: str):
    def _reconstruct(cls, shape, code):
        if cls is not _NDARRAY or tuple(shape) != (0,) or code != b'b':
            _refuse(
                f'_reconstruct({cls!r}, {shape!r}, {code!r}) (NumPy writes '
                "_reconstruct(ndarray, (0,), b'b'))"
            )
        return ArrayState()

    _reconstruct.__module__ = module
    return _reconstruct


def _make_scalar(module: str):
    def scalar(dtype, data=None):
        dtype = _plain_dtype(dtype)
        if not isinstance(data, (bytes, bytearray)) or len(data) != dtype.itemsize:
            _refuse(f'a {dtype} scalar from {type(data).__name__} of the wrong size')
        return np.frombuffer(bytes(data), dtype=dtype)[0].copy()

    scalar.__module__ = module
    return scalar


def dtype(spec, align=False, copy=False):
    """``numpy.dtype(spec, align, copy)`` for a dtype string, refusing object dtypes."""
    if not isinstance(spec, str) or not isinstance(align, bool) or not isinstance(copy, bool):
        _refuse(f'dtype({spec!r}, {align!r}, {copy!r})')
    try:
        made = np.dtype(spec, align, copy)
    except TypeError as e:
        _refuse(f'dtype({spec!r}): {e}')
    return _plain_dtype(made)


dtype.__module__ = 'numpy'


def allowed_types() -> List[Any]:
    """What ``torch.serialization.safe_globals`` gets: the bounded NumPy constructors (under
    the names NumPy pickles use), the dtype classes a rebuilt dtype may have (BUILD sets their
    byte order), :class:`ArrayState` and ``argparse.Namespace``."""
    dtype_classes = [
        getattr(np.dtypes, n)
        for n in dir(np.dtypes)
        if n.endswith('DType') and n not in _EXCLUDED_DTYPE_CLASSES
    ]
    numpy_names = [f(m) for m in _MODULES for f in (_make_reconstruct, _make_scalar)]
    return [*numpy_names, _NDARRAY, dtype, *dtype_classes, ArrayState, argparse.Namespace]


def materialise_arrays(obj):
    """``obj`` with every :class:`ArrayState` replaced by its array (containers are updated in
    place, tuples rebuilt)."""
    memo = {}

    def walk(x):
        if isinstance(x, ArrayState):
            if x.array is None:
                _refuse('an array without its state')
            return x.array
        if id(x) in memo:
            return memo[id(x)]
        if isinstance(x, dict):
            memo[id(x)] = x
            for key, value in x.items():
                x[key] = walk(value)
        elif isinstance(x, list):
            memo[id(x)] = x
            x[:] = [walk(v) for v in x]
        elif isinstance(x, tuple):
            items, original = [walk(v) for v in x], id(x)
            if any(a is not b for a, b in zip(items, x)):
                x = type(x)(items) if type(x) is tuple else type(x)(*items)  # namedtuples
            memo[original] = x
        elif isinstance(x, argparse.Namespace):
            memo[id(x)] = x
            for key, value in vars(x).items():
                setattr(x, key, walk(value))
        return x

    return walk(obj)
