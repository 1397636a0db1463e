"""Install mmseg_fdacl, an MMSegmentation 1.x plugin for FDA + contrastive UDA."""
from pathlib import Path

from setuptools import find_packages, setup


def read_requirements(name: str) -> list:
    """Read one requirements file, skipping comments and blank lines."""
    path = Path(__file__).parent / 'requirements' / name
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith('#')]


setup(
    name='mmseg_fdacl',
    version='0.1.0',
    description='Fourier domain adaptation and pixel contrastive learning '
    'for unsupervised domain adaptation in MMSegmentation 1.x',
    long_description=(Path(__file__).parent / 'README.md').read_text(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmseg_fdacl', 'mmseg_fdacl.*']),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt') +
    read_requirements('mminstall.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    license='Apache License 2.0',
)
