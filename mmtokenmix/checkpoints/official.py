"""The released checkpoints our configs can use: where each file is, what it is, which converter
(if any) turns it into an mmtokenmix checkpoint and which configs use it.

``tools/misc/download_weights.py NAME`` downloads one (timeout, checksum, conversion) and
``--list`` prints this table as docs/checkpoints.md shows it.

Checksums: a file whose name carries a SHA-256 prefix (OpenMMLab's and torch hub's convention,
``...-cb4f741c.pth``) is verified against it. For the TransXNet and DFFormer release assets no
checksum has been published and none could be computed here (the machines that build this
project cannot reach GitHub), so ``sha256`` is None: the tool prints the SHA-256 of what it
downloaded, and ``--sha256 HEX`` verifies a file against a value you trust.

Sizes: no file size is stated for the same reason; the table gives the parameter count of the
model (from the model index, ``index_name``) and count x 4 bytes (float32), the least a file of
these weights can hold; a training checkpoint that also stores EMA weights or optimizer state is
larger.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

TRANSXNET_RELEASE = 'https://github.com/LMMMEng/TransXNet/releases/download/v1.0/'
DFFORMER_RELEASE = 'https://github.com/okojoalg/dfformer/releases/download/weights/'
MMPRETRAIN_MOBILEVIT = 'https://download.openmmlab.com/mmclassification/v0/mobilevit/'


@dataclass(frozen=True)
class OfficialCheckpoint:
    """One released file.

    Args:
        name: what ``download_weights.py`` calls it.
        url: where it is published.
        what: the model and the data it was trained on.
        index_name: the model-index entry of the model the weights are for (its
            ``Metadata.Parameters`` is the parameter count); None when the index has none.
        save_as: where it goes under ``checkpoints/`` (the path our configs name).
        converter: ``'transxnet'`` / ``'dfformer'`` when the file must be converted before
            ``tools/test.py`` takes it (whole detector/segmentor files); None when configs load
            it as it is (ImageNet files, through the backbone's ``init_cfg``).
        converted_as: the converted file's path (when ``converter`` is set).
        configs: the configs that use it (to fine-tune from, or to evaluate it with).
        sha256: the full SHA-256 or a prefix of it, when one is known.
    """

    name: str
    url: str
    what: str
    index_name: Optional[str]
    save_as: str
    configs: Tuple[str, ...]
    converter: Optional[str] = None
    converted_as: Optional[str] = None
    sha256: Optional[str] = None
    notes: str = field(default='', compare=False)

    @property
    def file_name(self) -> str:
        return self.url.rsplit('/', 1)[-1]


def _transxnet() -> List[OfficialCheckpoint]:
    entries = []
    for arch in ('t', 's', 'b'):
        entries.append(
            OfficialCheckpoint(
                f'transxnet_{arch}_in1k',
                f'{TRANSXNET_RELEASE}transx-{arch}.pth.tar',
                f'TransXNet-{arch.upper()} ImageNet-1K classifier, 224',
                f'transxnet_{arch}',
                f'checkpoints/transx-{arch}.pth.tar',
                tuple(
                    f'configs/{head}_transxnet_{arch}_{data}.py'
                    for head, data in (
                        ('retinanet', 'coco'),
                        ('maskrcnn', 'coco'),
                        ('sfpn', 'ade20k'),
                        ('segformer', 'ade20k'),
                        ('segformer', 'cityscapes'),
                    )
                )
                + (
                    ('configs/yolov3_transxnet_t_coco.py', 'configs/yolov3-320_transxnet_t_coco.py')
                    if arch == 't'
                    else ()
                ),
            )
        )
    entries.append(
        OfficialCheckpoint(
            'transxnet_b_in1k_384',
            f'{TRANSXNET_RELEASE}transx-b-384.pth.tar',
            'TransXNet-B ImageNet-1K classifier fine-tuned at 384',
            None,
            'checkpoints/transx-b-384.pth.tar',
            (),
            notes="timm.create_model('transxnet_b', image_size=384, checkpoint_path=...)",
        )
    )
    word = dict(t='tiny', s='small', b='base')
    dense = dict(
        retinanet='COCO RetinaNet 1x', maskrcnn='COCO Mask R-CNN 1x', sfpn='ADE20K Semantic FPN 80k'
    )
    for head, task in dense.items():
        data = 'ade20k' if head == 'sfpn' else 'coco'
        for arch in ('t', 's', 'b'):
            official = (
                f'sfpn_transxnet_{word[arch]}.pth' if head == 'sfpn' else f'{head}_{word[arch]}.pth'
            )
            name = f'{head}_transxnet_{arch}_{data}'
            entries.append(
                OfficialCheckpoint(
                    name,
                    TRANSXNET_RELEASE + official,
                    f'TransXNet-{arch.upper()} {task}',
                    name,
                    f'checkpoints/{official}',
                    (f'configs/{name}.py',),
                    converter='transxnet',
                    converted_as=f'checkpoints/{name}.pth',
                )
            )
    return entries


def _dfformer() -> List[OfficialCheckpoint]:
    entries = []
    for family in ('dfformer', 'cdfformer'):
        for arch in ('s18', 's36', 'm36', 'b36'):
            configs = (
                tuple(
                    f'configs/{head}_{family}_{arch}_{data}.py'
                    for head, data in (
                        ('retinanet', 'coco'),
                        ('maskrcnn', 'coco'),
                        ('sfpn', 'ade20k'),
                        ('segformer', 'ade20k'),
                        ('segformer', 'cityscapes'),
                    )
                )
                if arch != 'b36'
                else ()
            )
            entries.append(
                OfficialCheckpoint(
                    f'{family}_{arch}_in1k',
                    f'{DFFORMER_RELEASE}{family}_{arch}.pth',
                    f'{"C" if family == "cdfformer" else ""}DFFormer-{arch.upper()} ImageNet-1K '
                    'classifier, 224',
                    f'{family}_{arch}',
                    f'checkpoints/{family}_{arch}.pth',
                    configs,
                    notes=''
                    if configs
                    else f"timm.create_model('{family}_{arch}', checkpoint_path=...)",
                )
            )
    return entries


def _mobilevit() -> List[OfficialCheckpoint]:
    name = 'mobilevit-small_3rdparty_in1k_20221018-cb4f741c.pth'
    return [
        OfficialCheckpoint(
            'mobilevit_s_in1k',
            MMPRETRAIN_MOBILEVIT + name,
            "MobileViT-S ImageNet-1K (mmpretrain's conversion): XFormer's substitute "
            'initialisation (no XFormer weights exist)',
            None,
            f'checkpoints/{name}',
            (
                'configs/retinanet_xformer_coco.py',
                'configs/maskrcnn_xformer_coco.py',
                'configs/yolov3_xformer_coco.py',
                'configs/yolov3-320_xformer_coco.py',
                'configs/segformer_xformer_ade20k.py',
                'configs/segformer_xformer_cityscapes.py',
            ),
            sha256='cb4f741c',
        )
    ]


OFFICIAL_CHECKPOINTS: Dict[str, OfficialCheckpoint] = {
    c.name: c for c in _transxnet() + _dfformer() + _mobilevit()
}


def find_official_checkpoint(name: str) -> OfficialCheckpoint:
    """The entry called ``name``; a KeyError lists the known names."""
    try:
        return OFFICIAL_CHECKPOINTS[name]
    except KeyError:
        raise KeyError(
            f'no released checkpoint called {name!r}; known: {", ".join(OFFICIAL_CHECKPOINTS)}'
        ) from None


def official_checkpoint_for_path(path: str) -> Optional[OfficialCheckpoint]:
    """The entry whose file (downloaded or converted) would be at ``path``, if any."""
    base = path.replace('\\', '/').rsplit('/', 1)[-1]
    for entry in OFFICIAL_CHECKPOINTS.values():
        if base in (entry.file_name, (entry.converted_as or '').rsplit('/', 1)[-1]):
            return entry
    return None
