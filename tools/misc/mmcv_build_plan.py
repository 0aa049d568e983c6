"""Decide how tools/setup_env.sh builds mmcv's compiled ops on this machine, or say why it cannot.

    python tools/misc/mmcv_build_plan.py check-python     # before the venv exists (no torch)
    python tools/misc/mmcv_build_plan.py plan             # inside the venv, torch installed
    python tools/misc/mmcv_build_plan.py check-build-tools  # before compiling (no cached wheel)

``plan`` prints bash assignments for setup_env.sh to ``eval``: the build *flavour* (``cpu``, or
``cu124-sm90`` = torch's CUDA version + the GPU architectures compiled for), the device the
post-install check runs the ops on, and the environment of the mmcv build. The flavour is part
of the cached wheel's name, so a CPU-only wheel is never reused on a GPU machine and a wheel for
one GPU architecture never on another.

Every decision is made by :func:`decide` / :func:`check_build_tools` from a :class:`Probe` of
the machine, so the tests exercise GPU machines, missing toolkits and so on by faking the probe.
Problems raise :class:`SetupError` with what is wrong and what to do; the script prints it and
exits 2.

Choices (the rules setup_env.sh follows):

* ``MMTOKENMIX_DEVICE`` = ``auto`` (default) | ``cpu`` | ``cuda``. ``auto`` builds CUDA ops when
  torch can use a GPU, CPU ops otherwise; it refuses a machine where ``nvidia-smi`` sees GPUs
  that torch cannot use (an old driver, usually) instead of silently building CPU-only ops.
* CUDA builds need ``nvcc`` whose major version equals torch's CUDA major version (torch's own
  extension builder refuses a different major; a different minor only gets a note, as torch
  only warns).
* The architectures are ``TORCH_CUDA_ARCH_LIST`` if set (also the way to build for GPUs that are
  not in this machine), else the compute capabilities of the GPUs torch sees.
* A CPU build hides the GPUs from the build (``CUDA_VISIBLE_DEVICES=``), because mmcv's
  setup.py compiles CUDA ops whenever torch sees one.
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# the Python versions setup.py's python_requires admits (a test keeps the two equal)
PYTHON_MIN = (3, 9)
PYTHON_MAX_EXCLUSIVE = (3, 12)
DEVICE_CHOICES = ('auto', 'cpu', 'cuda')


class SetupError(RuntimeError):
    """The set-up cannot go on; the message says what is wrong and what to do."""


@dataclass
class Probe:
    """What the plan depends on, read off the machine by :func:`probe_machine`."""

    torch_version: str = ''
    torch_cuda: Optional[str] = None  # torch.version.cuda, None for a CPU build
    cuda_usable: bool = False  # torch.cuda.is_available()
    gpu_capabilities: List[Tuple[int, int]] = field(default_factory=list)
    nvidia_smi_gpus: int = 0  # GPUs nvidia-smi lists (0: none or no nvidia-smi)
    cuda_home: Optional[str] = None  # the toolkit torch's extension builder would use
    nvcc_version: Optional[str] = None  # e.g. '12.4'
    arch_list_env: Optional[str] = None  # TORCH_CUDA_ARCH_LIST
    requested: str = 'auto'  # MMTOKENMIX_DEVICE
    cxx: Optional[str] = None  # path of the C++ compiler
    python_header: bool = True  # Python.h of this interpreter exists
    python_version: Tuple[int, int] = sys.version_info[:2]


@dataclass
class Plan:
    device: str  # 'cpu' or 'cuda': what the mmcv build targets
    flavour: str  # part of the cached wheel's name
    check_device: str  # where the post-install ops check runs
    build_env: Dict[str, str]
    notes: List[str] = field(default_factory=list)


def check_python(version: Tuple[int, int]) -> None:
    if not PYTHON_MIN <= tuple(version) < PYTHON_MAX_EXCLUSIVE:
        have = '.'.join(map(str, version))
        raise SetupError(
            f'Python {have} is not supported: the pinned stack (torch 2.5.1, mmcv 2.1.0, '
            f'mmengine 0.10.7) needs Python {fmt(PYTHON_MIN)} to '
            f'{PYTHON_MAX_EXCLUSIVE[0]}.{PYTHON_MAX_EXCLUSIVE[1] - 1} (tested: 3.11). Install '
            'Python 3.11 (e.g. `apt-get install python3.11 python3.11-venv python3.11-dev` or '
            '`pyenv install 3.11`) and point MMTOKENMIX_PYTHON at it if it is not `python3.11`.'
        )


def fmt(version: Tuple[int, int]) -> str:
    return '.'.join(map(str, version))


def _arch_tag(arch_list: str) -> str:
    """'8.0;9.0+PTX' -> '80_90ptx' (a file-name-safe part of the flavour)."""
    parts = [p for p in re.split(r'[;\s]+', arch_list.strip()) if p]
    return '_'.join(p.replace('.', '').replace('+PTX', 'ptx').lower() for p in parts)


def decide(probe: Probe) -> Plan:
    """The build plan for ``probe``, or :class:`SetupError`."""
    requested = probe.requested or 'auto'
    if requested not in DEVICE_CHOICES:
        raise SetupError(
            f'MMTOKENMIX_DEVICE={requested!r} is not one of {", ".join(DEVICE_CHOICES)}'
        )
    if requested == 'cpu' or (requested == 'auto' and not probe.cuda_usable):
        if requested == 'auto' and probe.nvidia_smi_gpus:
            raise SetupError(
                f'nvidia-smi lists {probe.nvidia_smi_gpus} GPU(s), but torch '
                f'{probe.torch_version} (CUDA {probe.torch_cuda or "none: a CPU-only build"}) '
                'cannot use them (torch.cuda.is_available() is False). Usually the NVIDIA '
                f'driver is too old for CUDA {probe.torch_cuda} (update it), or '
                'CUDA_VISIBLE_DEVICES hides the GPUs. To set up CPU-only ops anyway, run again '
                'with MMTOKENMIX_DEVICE=cpu.'
            )
        # mmcv compiles CUDA ops whenever torch sees a GPU: hide them from a CPU build
        return Plan(
            'cpu', 'cpu', 'cpu', dict(MMCV_WITH_OPS='1', FORCE_CUDA='0', CUDA_VISIBLE_DEVICES='')
        )

    if probe.torch_cuda is None:
        raise SetupError(
            f'MMTOKENMIX_DEVICE=cuda, but torch {probe.torch_version} is a '
            'CPU-only build: install a CUDA build of torch (requirements/stack.txt '
            'pins the PyPI one, CUDA 12.4) or use MMTOKENMIX_DEVICE=cpu.'
        )
    if not probe.cuda_usable and not probe.arch_list_env:
        raise SetupError(
            'MMTOKENMIX_DEVICE=cuda, but torch sees no usable GPU here. To build '
            'CUDA ops for GPUs of another machine, name their architectures, e.g. '
            "TORCH_CUDA_ARCH_LIST='8.0;9.0'; or use MMTOKENMIX_DEVICE=cpu."
        )
    want = probe.torch_cuda
    if probe.cuda_home is None or probe.nvcc_version is None:
        where = (
            f'CUDA_HOME={probe.cuda_home} has no working bin/nvcc'
            if probe.cuda_home
            else 'no nvcc was found (CUDA_HOME unset, nvcc not on PATH, no /usr/local/cuda)'
        )
        raise SetupError(
            f'mmcv\'s CUDA ops must be compiled with the CUDA toolkit that matches torch '
            f'{probe.torch_version} (CUDA {want}), but {where}. Install CUDA toolkit {want} '
            f'(NVIDIA\'s cuda-toolkit-{want.replace(".", "-")} package, or '
            f'`conda install -c nvidia cuda-toolkit={want}`), then set '
            f'CUDA_HOME=/usr/local/cuda-{want} (or wherever it went) and run again. '
            'To set up CPU-only ops instead: MMTOKENMIX_DEVICE=cpu.'
        )
    notes = []
    if probe.nvcc_version.split('.')[0] != want.split('.')[0]:
        raise SetupError(
            f'nvcc {probe.nvcc_version} (CUDA_HOME={probe.cuda_home}) does not match torch '
            f'{probe.torch_version}, which was built with CUDA {want}; torch refuses to compile '
            f'extensions across CUDA major versions. Install CUDA toolkit {want} and point '
            'CUDA_HOME at it, or use MMTOKENMIX_DEVICE=cpu.'
        )
    if probe.nvcc_version != want:
        notes.append(
            f'nvcc {probe.nvcc_version} differs from torch\'s CUDA {want} in the '
            'minor version only; torch allows this (it warns), so the build goes on.'
        )
    if probe.arch_list_env:
        arch_list = probe.arch_list_env.strip()
        notes.append(f'compiling for TORCH_CUDA_ARCH_LIST={arch_list!r} (given)')
    else:
        arch_list = ';'.join(
            sorted({f'{major}.{minor}' for major, minor in probe.gpu_capabilities})
        )
        notes.append(f'compiling for the GPUs found here: TORCH_CUDA_ARCH_LIST={arch_list!r}')
    if not probe.cuda_usable:
        notes.append('no usable GPU here: the CUDA ops are built but only checked on CPU')
    flavour = f'cu{want.replace(".", "")}-sm{_arch_tag(arch_list)}'
    return Plan(
        'cuda',
        flavour,
        'cuda' if probe.cuda_usable else 'cpu',
        dict(
            MMCV_WITH_OPS='1',
            FORCE_CUDA='1',
            TORCH_CUDA_ARCH_LIST=arch_list,
            CUDA_HOME=probe.cuda_home,
        ),
        notes,
    )


def check_build_tools(probe: Probe) -> None:
    """Raise :class:`SetupError` unless mmcv can be compiled here (a C++ compiler and the
    Python headers)."""
    if probe.cxx is None:
        raise SetupError(
            'compiling mmcv 2.1.0 needs a C++ compiler (g++ >= 9) and none was '
            'found (CXX unset, no c++/g++ on PATH). Install one, e.g. '
            '`apt-get install g++` (Debian/Ubuntu) or `dnf install gcc-c++`, '
            'and run again.'
        )
    if not probe.python_header:
        have = fmt(probe.python_version)
        raise SetupError(
            f'compiling mmcv needs the headers of Python {have} (Python.h), '
            f'which are missing. Install them, e.g. `apt-get install '
            f'python{have}-dev`, and run again.'
        )


def _nvcc_version(cuda_home: Optional[str]) -> Optional[str]:
    if not cuda_home:
        return None
    try:
        out = subprocess.run(
            [os.path.join(cuda_home, 'bin', 'nvcc'), '--version'],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'release (\d+\.\d+)', out)
    return match.group(1) if match else None


def _nvidia_smi_gpus() -> int:
    if shutil.which('nvidia-smi') is None:
        return 0
    try:
        out = subprocess.run(
            ['nvidia-smi', '-L'], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith('GPU ') for line in out.splitlines())


def probe_machine(with_torch: bool = True) -> Probe:
    probe = Probe(
        arch_list_env=os.environ.get('TORCH_CUDA_ARCH_LIST') or None,
        requested=os.environ.get('MMTOKENMIX_DEVICE', 'auto'),
        cxx=shutil.which(os.environ.get('CXX', 'c++')) or shutil.which('g++'),
        python_header=os.path.isfile(os.path.join(sysconfig.get_paths()['include'], 'Python.h')),
        nvidia_smi_gpus=_nvidia_smi_gpus(),
    )
    if with_torch:
        import torch
        from torch.utils.cpp_extension import CUDA_HOME

        probe.torch_version = torch.__version__
        probe.torch_cuda = torch.version.cuda
        probe.cuda_usable = torch.cuda.is_available()
        if probe.cuda_usable:
            probe.gpu_capabilities = [
                torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())
            ]
        probe.cuda_home = CUDA_HOME
        probe.nvcc_version = _nvcc_version(CUDA_HOME)
    return probe


def shell_assignments(plan: Plan) -> str:
    """bash assignments of the plan, for ``eval`` in setup_env.sh."""
    env = ' '.join(shlex.quote(f'{k}={v}') for k, v in plan.build_env.items())
    lines = [
        f'MMCV_DEVICE={plan.device}',
        f'MMCV_FLAVOUR={shlex.quote(plan.flavour)}',
        f'MMCV_CHECK_DEVICE={plan.check_device}',
        f'MMCV_BUILD_ENV=({env})',
    ]
    lines += [f'echo {shlex.quote("[setup] " + note)}' for note in plan.notes]
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('step', choices=['check-python', 'plan', 'check-build-tools'])
    args = parser.parse_args(argv)
    try:
        if args.step == 'check-python':
            check_python(sys.version_info[:2])
        elif args.step == 'plan':
            print(shell_assignments(decide(probe_machine())))
        else:
            check_build_tools(probe_machine(with_torch=False))
    except SetupError as exc:
        print(f'[setup] ERROR: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
