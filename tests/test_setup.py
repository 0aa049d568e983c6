"""The set-up: how tools/setup_env.sh decides the mmcv build (GPU machines faked on this CPU
machine), its refusals, its handling of unfinished environments, and the package metadata."""

import json
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest
from conftest import REPO, load_tool

build_plan = load_tool('tools/misc/mmcv_build_plan.py')
Probe, SetupError = build_plan.Probe, build_plan.SetupError

CPU_MACHINE = dict(torch_version='2.5.1+cu124', torch_cuda='12.4', cuda_usable=False)
H100_MACHINE = dict(
    torch_version='2.5.1+cu124',
    torch_cuda='12.4',
    cuda_usable=True,
    gpu_capabilities=[(9, 0)],
    nvidia_smi_gpus=1,
    cuda_home='/usr/local/cuda-12.4',
    nvcc_version='12.4',
)


def _plan(**fields):
    return build_plan.decide(Probe(**fields))


def test_cpu_machine_builds_cpu_ops_with_gpus_hidden_from_the_build():
    plan = _plan(**CPU_MACHINE)
    assert (plan.device, plan.flavour, plan.check_device) == ('cpu', 'cpu', 'cpu')
    assert plan.build_env == dict(MMCV_WITH_OPS='1', FORCE_CUDA='0', CUDA_VISIBLE_DEVICES='')


def test_gpu_machine_builds_cuda_ops_for_its_gpus_and_checks_them_on_cuda():
    plan = _plan(**H100_MACHINE)
    assert (plan.device, plan.flavour, plan.check_device) == ('cuda', 'cu124-sm90', 'cuda')
    assert plan.build_env == dict(
        MMCV_WITH_OPS='1',
        FORCE_CUDA='1',
        TORCH_CUDA_ARCH_LIST='9.0',
        CUDA_HOME='/usr/local/cuda-12.4',
    )


def test_mixed_gpus_and_a_given_arch_list_change_the_wheel_flavour():
    mixed = _plan(**dict(H100_MACHINE, gpu_capabilities=[(9, 0), (8, 0), (9, 0)]))
    assert mixed.build_env['TORCH_CUDA_ARCH_LIST'] == '8.0;9.0'
    assert mixed.flavour == 'cu124-sm80_90'
    given = _plan(**dict(H100_MACHINE, arch_list_env='8.6+PTX'))
    assert given.build_env['TORCH_CUDA_ARCH_LIST'] == '8.6+PTX'
    assert given.flavour == 'cu124-sm86ptx'
    # every machine kind gets its own cached wheel
    flavours = {
        _plan(**CPU_MACHINE).flavour,
        _plan(**H100_MACHINE).flavour,
        mixed.flavour,
        given.flavour,
    }
    assert len(flavours) == 4


def test_cuda_ops_for_another_machine_need_an_arch_list_and_are_checked_on_cpu():
    with pytest.raises(SetupError, match='TORCH_CUDA_ARCH_LIST'):
        _plan(
            **dict(CPU_MACHINE, requested='cuda', cuda_home='/usr/local/cuda', nvcc_version='12.4')
        )
    plan = _plan(
        **dict(
            CPU_MACHINE,
            requested='cuda',
            arch_list_env='9.0',
            cuda_home='/usr/local/cuda',
            nvcc_version='12.4',
        )
    )
    assert (plan.device, plan.flavour, plan.check_device) == ('cuda', 'cu124-sm90', 'cpu')
    assert any('only checked on CPU' in note for note in plan.notes)


def test_gpu_without_a_cuda_toolkit_names_the_toolkit_to_install():
    with pytest.raises(SetupError) as err:
        _plan(**dict(H100_MACHINE, cuda_home=None, nvcc_version=None))
    message = str(err.value)
    assert 'CUDA toolkit 12.4' in message and 'no nvcc was found' in message
    assert 'CUDA_HOME' in message and 'MMTOKENMIX_DEVICE=cpu' in message
    with pytest.raises(SetupError, match='CUDA_HOME=/opt/cuda has no working bin/nvcc'):
        _plan(**dict(H100_MACHINE, cuda_home='/opt/cuda', nvcc_version=None))


def test_nvcc_of_another_major_version_is_refused_another_minor_noted():
    with pytest.raises(SetupError, match=r'nvcc 11\.8 .* built with CUDA 12\.4'):
        _plan(**dict(H100_MACHINE, nvcc_version='11.8'))
    plan = _plan(**dict(H100_MACHINE, nvcc_version='12.6'))
    assert plan.device == 'cuda' and any('minor version only' in n for n in plan.notes)


def test_gpus_that_torch_cannot_use_stop_the_automatic_choice():
    unusable = dict(CPU_MACHINE, nvidia_smi_gpus=2)
    with pytest.raises(SetupError, match=r'nvidia-smi lists 2 GPU\(s\).*driver'):
        _plan(**unusable)
    assert _plan(**dict(unusable, requested='cpu')).flavour == 'cpu'


def test_bad_device_requests_are_refused():
    with pytest.raises(SetupError, match="MMTOKENMIX_DEVICE='gpu' is not one of"):
        _plan(**dict(CPU_MACHINE, requested='gpu'))
    with pytest.raises(SetupError, match='CPU-only build'):
        _plan(torch_version='2.5.1+cpu', torch_cuda=None, requested='cuda')


def test_missing_compiler_or_python_headers_say_what_to_install():
    with pytest.raises(SetupError, match='apt-get install g\\+\\+'):
        build_plan.check_build_tools(Probe(cxx=None))
    with pytest.raises(SetupError, match='apt-get install python3.11-dev'):
        build_plan.check_build_tools(
            Probe(cxx='/usr/bin/c++', python_header=False, python_version=(3, 11))
        )
    build_plan.check_build_tools(Probe(cxx='/usr/bin/c++', python_header=True))


def test_python_range_is_the_one_setup_py_declares():
    from packaging.specifiers import SpecifierSet

    src = open(osp.join(REPO, 'setup.py')).read()
    declared = SpecifierSet(src.split("python_requires='")[1].split("'")[0])
    for minor in range(6, 15):
        accepted = f'3.{minor}.0' in declared
        if accepted:
            build_plan.check_python((3, minor))
        else:
            with pytest.raises(SetupError, match=f'Python 3.{minor} is not supported'):
                build_plan.check_python((3, minor))
    assert sys.version_info[:2] == (3, 11)  # what CI runs


def test_plan_reaches_bash_as_variables_and_an_env_array():
    plan = _plan(**dict(H100_MACHINE, arch_list_env='8.0;9.0'))
    script = (
        build_plan.shell_assignments(plan) + '\n'
        'echo "$MMCV_DEVICE|$MMCV_FLAVOUR|$MMCV_CHECK_DEVICE"\n'
        'env -i "${MMCV_BUILD_ENV[@]}" sh -c \'echo "$TORCH_CUDA_ARCH_LIST|$FORCE_CUDA"\''
    )
    out = subprocess.run(['bash', '-c', script], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[-2:] == ['cuda|cu124-sm80_90|cuda', '8.0;9.0|1']
    assert lines[0].startswith('[setup] compiling for TORCH_CUDA_ARCH_LIST')


def _fake_command(folder, name, body):
    path = folder / name
    path.write_text('#!/bin/sh\n' + body + '\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _run_plan_script(env_extra, tmp_path):
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/misc/mmcv_build_plan.py'), 'plan'],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_plan_script_probes_a_faked_gpu_machine(tmp_path):
    """The real probing code with a fake nvidia-smi and a fake CUDA toolkit on this CPU
    machine: torch cannot use the 'GPU', so the automatic choice stops, MMTOKENMIX_DEVICE=cpu
    goes on, and a cross-build for sm_90 finds the fake nvcc."""
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    _fake_command(fake_bin, 'nvidia-smi', 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-1)"')
    path = f'{fake_bin}:{os.environ["PATH"]}'
    proc = _run_plan_script(dict(PATH=path, MMTOKENMIX_DEVICE='auto'), tmp_path)
    assert proc.returncode == 2 and 'nvidia-smi lists 1 GPU(s)' in proc.stderr
    proc = _run_plan_script(dict(PATH=path, MMTOKENMIX_DEVICE='cpu'), tmp_path)
    assert proc.returncode == 0 and 'MMCV_FLAVOUR=cpu' in proc.stdout

    toolkit = tmp_path / 'cuda'
    (toolkit / 'bin').mkdir(parents=True)
    _fake_command(toolkit / 'bin', 'nvcc', 'echo "Cuda compilation tools, release 12.4, V12.4.131"')
    proc = _run_plan_script(
        dict(
            PATH=path, MMTOKENMIX_DEVICE='cuda', CUDA_HOME=str(toolkit), TORCH_CUDA_ARCH_LIST='9.0'
        ),
        tmp_path,
    )
    import torch

    want = torch.version.cuda
    if want == '12.4':
        assert proc.returncode == 0, proc.stderr
        assert 'MMCV_FLAVOUR=cu124-sm90' in proc.stdout
        assert f'CUDA_HOME={toolkit}' in proc.stdout
    else:  # a torch with another CUDA (or none) must be refused, never built against 12.4
        assert proc.returncode == 2


def _setup_env(tmp_path, env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'MMTOKENMIX_VENV')}
    env.update(MMTOKENMIX_CACHE=str(tmp_path / 'cache'), **env_extra)
    return subprocess.run(
        ['bash', '-c', f'source {REPO}/tools/setup_env.sh && echo ACTIVE'],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )


def _fake_venv(folder, device):
    """A finished stack venv (stamped for ``device``) and, at ``folder/checkout-venv``, a
    finished checkout venv of this checkout on it (pass it as MMTOKENMIX_CHECKOUT_VENV)."""
    (folder / 'bin').mkdir(parents=True)
    (folder / 'bin' / 'activate').write_text('FAKE_VENV_ACTIVE=1\n')
    (folder / '.mmtokenmix-ready').write_text(f'device={device}\nflavour={device}\n')
    checkout_venv = folder.parent / f'{folder.name}-checkout-venv'
    (checkout_venv / 'bin').mkdir(parents=True)
    (checkout_venv / 'bin' / 'activate').write_text('FAKE_CHECKOUT_VENV_ACTIVE=1\n')
    (checkout_venv / '.mmtokenmix-checkout-venv').write_text(f'stack={folder}\nrepo={REPO}')
    return str(checkout_venv)


@pytest.mark.skipif(
    not osp.exists(osp.join(REPO, 'mmtokenmix', '.mim', 'configs')),
    reason='needs the checkout installed (tools/setup_env.sh does it)',
)
def test_a_finished_environment_is_never_rebuilt_or_removed_for_another_device(tmp_path):
    venv = tmp_path / 'venv'
    checkout_venv = _fake_venv(venv, 'cpu')
    proc = _setup_env(
        tmp_path,
        dict(
            MMTOKENMIX_VENV=str(venv),
            MMTOKENMIX_DEVICE='cpu',
            MMTOKENMIX_CHECKOUT_VENV=checkout_venv,
        ),
    )
    assert proc.returncode == 0 and proc.stdout.strip() == 'ACTIVE', proc.stderr
    before = sorted(p.name for p in venv.rglob('*'))
    # a GPU appears (or the user asks for CUDA): the CPU-only venv is neither reused nor
    # removed; the user is told how to go on
    proc = _setup_env(
        tmp_path,
        dict(
            MMTOKENMIX_VENV=str(venv),
            MMTOKENMIX_DEVICE='cuda',
            MMTOKENMIX_CHECKOUT_VENV=checkout_venv,
        ),
    )
    assert proc.returncode != 0 and 'ACTIVE' not in proc.stdout
    assert 'was built for device=cpu' in proc.stderr and 'left as it is' in proc.stderr
    assert sorted(p.name for p in venv.rglob('*')) == before


@pytest.mark.skipif(
    not osp.exists(osp.join(REPO, 'mmtokenmix', '.mim', 'configs')),
    reason='needs the checkout installed (tools/setup_env.sh does it)',
)
def test_default_environments_are_named_by_device_and_built_beside_each_other(tmp_path):
    import hashlib

    files = [
        'requirements/stack.txt',
        'tools/setup_env.sh',
        'tools/misc/mmcv_build_plan.py',
        'requirements/lock.txt',
    ]
    digest = hashlib.sha256(b''.join(open(osp.join(REPO, f), 'rb').read() for f in files))
    cpu_venv = tmp_path / 'cache' / f'venv-{digest.hexdigest()[:12]}-cpu'
    checkout_venv = _fake_venv(cpu_venv, 'cpu')
    proc = _setup_env(
        tmp_path, dict(MMTOKENMIX_DEVICE='cpu', MMTOKENMIX_CHECKOUT_VENV=checkout_venv)
    )
    assert proc.returncode == 0 and proc.stdout.strip() == 'ACTIVE', proc.stderr
    before = sorted(p.name for p in cpu_venv.rglob('*'))
    # a CUDA set-up starts its own venv beside it (stopped at once here: no interpreter)
    proc = _setup_env(
        tmp_path,
        dict(
            MMTOKENMIX_DEVICE='cuda',
            MMTOKENMIX_PYTHON='no-such-python3',
            MMTOKENMIX_CHECKOUT_VENV=checkout_venv,
        ),
    )
    assert proc.returncode != 0 and 'removing' not in proc.stdout
    assert "interpreter 'no-such-python3' was not found" in proc.stderr
    assert sorted(p.name for p in cpu_venv.rglob('*')) == before


def test_a_folder_the_setup_did_not_make_is_never_removed(tmp_path):
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'bin' / 'activate').write_text('FAKE_VENV_ACTIVE=1\n')  # someone else's, no marker
    proc = _setup_env(
        tmp_path,
        dict(MMTOKENMIX_VENV=str(venv), MMTOKENMIX_DEVICE='cpu', MMTOKENMIX_PYTHON=sys.executable),
    )
    assert proc.returncode != 0 and 'not an environment this set-up made' in proc.stderr
    assert (venv / 'bin' / 'activate').exists()


def _this_checkout_venv():
    """(this checkout's venv, the stack venv under it), or None outside a checkout venv."""
    marker = osp.join(sys.prefix, '.mmtokenmix-checkout-venv')
    if not osp.isfile(marker):
        return None
    fields = dict(line.split('=', 1) for line in open(marker).read().splitlines())
    return sys.prefix, fields['stack']


def _files_of(folder):
    """{path: (size, mtime)} of every file under ``folder`` (byte-code caches aside: any
    interpreter may write those beside a module it imports)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in files:
            path = osp.join(root, name)
            stat = os.lstat(path)
            out[osp.relpath(path, folder)] = (stat.st_size, stat.st_mtime_ns)
    return out


@pytest.mark.slow
@pytest.mark.skipif(
    _this_checkout_venv() is None, reason='runs in the checkout venv that tools/setup_env.sh makes'
)
def test_a_second_clone_runs_the_demo_in_its_own_environment_and_leaves_this_one_alone(tmp_path):
    """`bash tools/demo.sh` in a second clone (short schedule) makes that clone's own venv on
    the shared stack venv and imports that clone; this checkout's venv and the stack venv are
    left exactly as they were (every file, size and mtime), and this checkout still imports
    itself."""
    own_venv, stack = _this_checkout_venv()
    before = {folder: _files_of(folder) for folder in (own_venv, stack)}
    clone = tmp_path / 'clone'
    subprocess.run(['git', 'clone', '-q', REPO, str(clone)], check=True, timeout=120)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ('VIRTUAL_ENV', 'PYTHONPATH', 'MMTOKENMIX_CHECKOUT_VENV')
    }
    env.update(
        MMTOKENMIX_VENV=stack,
        MMTOKENMIX_CACHE=str(tmp_path / 'cache'),
        PATH=os.pathsep.join(
            p for p in env['PATH'].split(os.pathsep) if not p.startswith(own_venv)
        ),
    )
    short = [
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'train_dataloader.dataset.indices=8',
        'default_hooks.logger.interval=1',
    ]
    proc = subprocess.run(
        ['bash', 'tools/demo.sh', 'configs/retinanet_transxnet_t_toy.py', *short],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"making this checkout's venv {clone}/.venv-mmtokenmix" in proc.stdout
    work = clone / 'work_dirs' / 'retinanet_transxnet_t_toy'
    metrics = [json.loads(open(p).read()) for p in sorted(work.glob('test/*/*.json'))]
    assert metrics  # the demo's evaluation ran (two iterations leave no box to score)
    assert (work / 'predictions.jpg').is_file() and (work / 'curves.png').is_file()
    found = subprocess.run(
        [
            str(clone / '.venv-mmtokenmix' / 'bin' / 'python'),
            '-c',
            'import mmtokenmix; print(mmtokenmix.__file__)',
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert osp.realpath(found.strip()) == osp.realpath(clone / 'mmtokenmix' / '__init__.py')
    for folder, files in before.items():
        assert _files_of(folder) == files, folder
    found = subprocess.run(
        [sys.executable, '-c', 'import mmtokenmix; print(mmtokenmix.__file__)'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert osp.realpath(found.strip()) == osp.realpath(osp.join(REPO, 'mmtokenmix', '__init__.py'))


def test_a_checkout_venv_folder_the_setup_did_not_make_is_never_removed(tmp_path):
    venv = tmp_path / 'venv'
    _fake_venv(venv, 'cpu')
    theirs = tmp_path / 'their-venv'
    (theirs / 'bin').mkdir(parents=True)
    (theirs / 'bin' / 'activate').write_text('THEIRS=1\n')  # no marker: not ours
    proc = _setup_env(
        tmp_path,
        dict(
            MMTOKENMIX_VENV=str(venv), MMTOKENMIX_DEVICE='cpu', MMTOKENMIX_CHECKOUT_VENV=str(theirs)
        ),
    )
    assert proc.returncode != 0 and 'not an environment this set-up made' in proc.stderr
    assert (theirs / 'bin' / 'activate').read_text() == 'THEIRS=1\n'


def test_interrupted_setup_is_never_taken_for_finished(tmp_path):
    """A venv without the stamp (a set-up killed half-way) is removed and built again; here
    the rebuild is made to fail at `python -m venv` so the test stays fast."""
    venv = tmp_path / 'venv'
    (venv / 'bin').mkdir(parents=True)
    (venv / 'bin' / 'activate').write_text('FAKE_VENV_ACTIVE=1\n')  # half-made, no stamp
    (venv / '.mmtokenmix-building').write_text('')  # started by a set-up
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    python = _fake_command(
        fake_bin, 'python-no-venv', f'[ "$1" = -m ] && exit 1\nexec {sys.executable} "$@"'
    )
    proc = _setup_env(
        tmp_path,
        dict(MMTOKENMIX_VENV=str(venv), MMTOKENMIX_DEVICE='cpu', MMTOKENMIX_PYTHON=str(python)),
    )
    assert proc.returncode != 0 and 'ACTIVE' not in proc.stdout
    assert 'removing the unfinished environment' in proc.stdout
    assert 'python3.11-venv' in proc.stderr and '[setup] FAILED' in proc.stderr
    assert not venv.exists()


def test_package_metadata_declares_the_requirement_files_and_the_stack_satisfies_them():
    """setup.py reads requirements/*.txt; the environment built from requirements/stack.txt
    satisfies every range in them (what `pip install -e .` would check)."""
    from importlib.metadata import PackageNotFoundError, requires, version

    from packaging.requirements import Requirement

    declared = [Requirement(r) for r in requires('mmtokenmix')]
    by_extra = {}
    for req in declared:
        extra = req.marker and str(req.marker).split('"')[1]
        by_extra.setdefault(extra, set()).add(req.name)
    read = {}
    for name in ('runtime', 'mminstall', 'optional', 'tests', 'build'):
        with open(osp.join(REPO, 'requirements', f'{name}.txt')) as f:
            read[name] = [
                Requirement(line.split('#')[0].strip()) for line in f if line.split('#')[0].strip()
            ]
    assert by_extra[None] == {r.name for r in read['runtime']}
    assert by_extra['mim'] == {r.name for r in read['mminstall']}
    assert by_extra['optional'] == {r.name for r in read['optional']}
    unmet = []
    for name, reqs in read.items():
        for req in reqs:
            try:
                have = version(req.name)
            except PackageNotFoundError:
                have = None
            if have is None or not req.specifier.contains(have, prereleases=True):
                unmet.append(f'{name}.txt: {req} (installed: {have})')
    assert not unmet, unmet


def test_the_package_carries_its_configs_tools_and_model_index():
    """`import mmtokenmix` finds this checkout, and mmtokenmix/.mim/ holds what mim and the
    stock tools look for (as mmdet/.mim/ does in the mmdet wheel)."""
    import mmtokenmix
    from mmtokenmix.model_index import MODEL_INDEX

    package = osp.dirname(mmtokenmix.__file__)
    assert osp.realpath(package) == osp.realpath(osp.join(REPO, 'mmtokenmix'))
    mim = osp.join(package, '.mim')
    assert osp.isfile(osp.join(mim, 'configs', 'retinanet_transxnet_t_toy.py'))
    assert osp.isfile(osp.join(mim, 'tools', 'train.py'))
    assert MODEL_INDEX == osp.join(mim, 'model-index.yml') and osp.isfile(MODEL_INDEX)


def test_the_environment_is_exactly_the_lock_and_the_lock_keeps_every_pin():
    """requirements/lock.txt is the whole resolved stack: the set-up installs exactly it, so
    the running environment has every locked package at its version and nothing else; and it
    meets every pin of requirements/stack.txt (OpenCV 4.x among them)."""
    from packaging.requirements import Requirement

    lock_stack = load_tool('tools/misc/lock_stack.py')
    locked = lock_stack.read_lock()
    assert lock_stack.differences(lock_stack.installed(), locked) == []
    with open(osp.join(REPO, 'requirements', 'stack.txt')) as f:
        pins = [Requirement(line.split('#')[0].strip()) for line in f if line.split('#')[0].strip()]
    for pin in pins:
        name = lock_stack.canonical(pin.name)
        if name in lock_stack.UNLOCKED:
            continue
        assert name in locked, f'{pin} is not locked'
        assert pin.specifier.contains(locked[name], prereleases=True), (pin, locked[name])
    assert locked['opencv-python'].startswith('4.')


def test_version_and_version_info_agree_with_the_citation_and_changelog():
    import mmtokenmix
    from mmtokenmix import parse_version_info

    assert mmtokenmix.version_info == parse_version_info(mmtokenmix.__version__)
    assert all(isinstance(p, int) for p in mmtokenmix.version_info[:3])
    assert parse_version_info('1.2.0rc1') == (1, 2, 0, 'rc1')
    assert parse_version_info('3.10.2') > parse_version_info('3.9.7')
    citation = open(osp.join(REPO, 'CITATION.cff')).read()
    assert f'version: {mmtokenmix.__version__}\n' in citation
    changelog = open(osp.join(REPO, 'CHANGELOG.md')).read()
    assert changelog.startswith('# Changelog') and mmtokenmix.__version__ in changelog
