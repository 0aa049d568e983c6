"""mmtokenmix: token-mixer backbones for OpenMMLab 2.x (mmdet 3.x / mmseg 1.x).

The dependency stack (torch, a source-built mmcv, mmdet, mmseg) is pinned in
requirements/stack.txt and installed by tools/setup_env.sh; ``pip install -e .`` into such an
environment only adds the plugin itself.
"""
import re

from setuptools import find_packages, setup

with open('mmtokenmix/__init__.py') as f:
    version = re.search(r"__version__ = '([^']+)'", f.read()).group(1)

setup(
    name='mmtokenmix',
    version=version,
    description='TransXNet, DFFormer, XFormer and DMFormer backbones for mmdet/mmseg',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.8',
    packages=find_packages(include=['mmtokenmix', 'mmtokenmix.*']),
    install_requires=['torch>=1.12', 'mmengine>=0.10,<1.0', 'mmcv>=2.0.0rc4,<2.2.0', 'numpy',
                      'opencv-python-headless'],
    extras_require=dict(det=['mmdet==3.3.0', 'pycocotools'],
                        seg=['mmsegmentation==1.2.2', 'ftfy', 'regex'], timm=['timm']),
)
