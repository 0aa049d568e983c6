"""mmtokenmix: token-mixer backbones for OpenMMLab 2.x (mmdet 3.x / mmseg 1.x).

Install into an environment that already has PyTorch and mmcv with its compiled ops (the
OpenMMLab way): ``pip install -e .``. ``tools/setup_env.sh`` builds such an environment with the
pinned, tested stack of requirements/stack.txt and installs this package into it.

As mmdet and mmseg do, the package carries its configs, tools and model index under
``mmtokenmix/.mim/`` (links into the checkout; a wheel holds copies), which is where ``mim``
looks for them.
"""

import os
import os.path as osp
import re
import shutil

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
# what travels with the package under mmtokenmix/.mim/ (as mmdet/.mim/ in the mmdet wheel)
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_requirements(name):
    """The requirement lines of requirements/<name>.txt (comments and blanks dropped)."""
    with open(osp.join(HERE, 'requirements', name)) as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


def add_mim_extension():
    """Link mmtokenmix/.mim/{configs,tools,model-index.yml} to the checkout's files. An editable
    install sees edits at once; a wheel or sdist build copies the files behind the links (the
    build follows them). Building from an sdist, whose .mim/ already holds the files and which
    has no checkout files to link to, leaves them as they are."""
    mim_dir = osp.join(HERE, 'mmtokenmix', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if not osp.exists(src):
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        os.symlink(osp.relpath(src, mim_dir), dst)


if __name__ == '__main__':
    with open(osp.join(HERE, 'mmtokenmix', '__init__.py')) as f:
        version = re.search(r"__version__ = '([^']+)'", f.read()).group(1)
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    add_mim_extension()
    setup(
        name='mmtokenmix',
        version=version,
        description='TransXNet, DFFormer, XFormer and DMFormer backbones for mmdet/mmseg',
        long_description=readme,
        long_description_content_type='text/markdown',
        author='The mmtokenmix Authors',
        keywords='computer vision, object detection, semantic segmentation, backbone, '
        'token mixer, OpenMMLab',
        license='Apache-2.0',
        # the tested interpreter is 3.11; 3.12 is excluded because mmengine 0.10.7 (the last
        # release) and mmcv 2.1.0 do not support it; tools/misc/mmcv_build_plan.py says the same
        python_requires='>=3.9,<3.12',
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: POSIX :: Linux',
            'Programming Language :: Python :: 3.9',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        packages=find_packages(include=['mmtokenmix', 'mmtokenmix.*']),
        include_package_data=True,  # the .mim/ files, see MANIFEST.in
        install_requires=read_requirements('runtime.txt'),
        extras_require=dict(
            mim=read_requirements('mminstall.txt'),
            optional=read_requirements('optional.txt'),
            tests=read_requirements('tests.txt'),
            build=read_requirements('build.txt'),
            all=read_requirements('mminstall.txt') + read_requirements('optional.txt'),
        ),
        zip_safe=False,
    )
