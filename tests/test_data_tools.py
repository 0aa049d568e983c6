"""Real-data helpers: tools/misc/check_dataset.py on damaged copies of the toy data, and
--data-root moving the datasets together with the evaluators' annotation files."""

import json
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from conftest import load_tool
from mmengine import Config
from PIL import Image

from mmtokenmix.config_utils import set_data_root

check_dataset = load_tool('tools/misc/check_dataset.py')


@pytest.fixture
def toy_copy(toy_workdir, tmp_path):
    root = tmp_path / 'toy'
    shutil.copytree(toy_workdir / 'data' / 'toy', root)
    return root


def _failing_check(repo_root, config, toy_copy, split, capsys) -> str:
    """Run check_dataset.py on ``split`` of the damaged copy: it must exit with an error;
    returns what it printed."""
    with pytest.raises(SystemExit) as exit_:
        check_dataset.main(
            [
                osp.join(repo_root, 'configs', config),
                '--data-root',
                str(toy_copy),
                '--splits',
                split,
            ]
        )
    assert exit_.value.code == 1
    return capsys.readouterr().out


def test_clean_toy_data_passes(toy_copy, repo_root, capsys):
    for config in ('retinanet_transxnet_t_toy.py', 'segformer_transxnet_t_toy.py'):
        check_dataset.main(
            [osp.join(repo_root, 'configs', config), '--data-root', str(toy_copy), '--strict']
        )
        out = capsys.readouterr().out
        assert '[train] 16 images checked: ok' in out and '[val] 8 images checked: ok' in out


def test_detection_problems_are_reported(toy_copy, repo_root, capsys):
    ann_file = toy_copy / 'annotations' / 'instances_train.json'
    coco = json.loads(ann_file.read_text())
    first, second, third = coco['images'][:3]
    os.remove(toy_copy / 'images' / 'train' / first['file_name'])
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] != second['id']]
    boxes = [a for a in coco['annotations'] if a['image_id'] == third['id']]
    boxes[0]['bbox'][2] = 0
    boxes[-1]['category_id'] = 99
    ann_file.write_text(json.dumps(coco))
    out = _failing_check(repo_root, 'retinanet_transxnet_t_toy.py', toy_copy, 'train', capsys)
    assert '[train] 16 images checked: 2 errors, 2 warnings' in out
    assert f'error: 1 x missing image: {toy_copy}/images/train/{first["file_name"]}' in out
    assert (
        f'error: 1 x labels outside the listed categories: annotation '
        f'{boxes[-1]["id"]}: category 99' in out
    )
    assert 'warning: 1 x zero-area boxes (ignored by mmdet)' in out
    assert (
        f'warning: 1 x images without annotations (dropped from training by '
        f'filter_empty_gt): {second["file_name"]}' in out
    )


def test_broken_annotation_json_is_an_error(toy_copy, repo_root, capsys):
    (toy_copy / 'annotations' / 'instances_val.json').write_text('{"images": [')
    assert 'unreadable annotation file' in _failing_check(
        repo_root, 'retinanet_transxnet_t_toy.py', toy_copy, 'val', capsys
    )


def test_segmentation_problems_are_reported(toy_copy, repo_root, capsys):
    masks = sorted((toy_copy / 'masks' / 'train').iterdir())
    os.remove(masks[0])
    labels = np.array(Image.open(masks[1]))
    labels[0, 0] = 7  # 4 classes
    Image.fromarray(labels).save(masks[1])
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(masks[2])  # wrong size
    Image.fromarray(np.full((128, 128), 255, np.uint8)).save(masks[3])  # nothing labelled
    out = _failing_check(repo_root, 'segformer_transxnet_t_toy.py', toy_copy, 'train', capsys)
    assert f'error: 1 x missing label map: {masks[0]}' in out
    assert f'error: 1 x labels outside 0..3 and 255: {masks[1]}: [7]' in out
    assert f'error: 1 x label maps whose size differs from the image: {masks[2]}' in out
    assert f'warning: 1 x label maps without a labelled pixel: {masks[3]}' in out


def test_data_root_moves_the_coco_evaluator_annotations_too(repo_root):
    cfg = Config.fromfile(osp.join(repo_root, 'configs', 'maskrcnn_transxnet_t_coco.py'))
    changes = set_data_root(cfg, '/datasets/coco')
    assert cfg.train_dataloader.dataset.data_root == '/datasets/coco'
    assert cfg.val_dataloader.dataset.data_root == '/datasets/coco'
    assert cfg.val_evaluator.ann_file == '/datasets/coco/annotations/instances_val2017.json'
    assert cfg.test_evaluator.ann_file == '/datasets/coco/annotations/instances_val2017.json'
    assert (
        'val_evaluator.ann_file',
        'data/coco/annotations/instances_val2017.json',
        '/datasets/coco/annotations/instances_val2017.json',
    ) in changes
    seg = Config.fromfile(osp.join(repo_root, 'configs', 'segformer_transxnet_t_cityscapes.py'))
    set_data_root(seg, '/datasets/cityscapes')
    assert seg.train_dataloader.dataset.data_root == '/datasets/cityscapes'
    assert seg.test_dataloader.dataset.data_root == '/datasets/cityscapes'


def test_documented_data_commands_name_scripts_and_configs_that_exist(repo_root):
    """The data recipe of docs/training.md (the README points there) runs mmseg's Cityscapes
    converter from inside the installed wheel and checks a config: both must exist in this
    stack, and the layout it unpacks to must be the one the configs read."""
    import re
    import subprocess

    readme = open(osp.join(repo_root, 'README.md')).read()
    assert 'docs/training.md#coco--ade20k--cityscapes' in readme
    doc = open(osp.join(repo_root, 'docs', 'training.md')).read()
    block = doc[doc.index('## COCO / ADE20K / Cityscapes') :]
    block = block[: block.index('--data-root DIR')]
    converter = re.search(r'python "\$\((python -c .+?)\)(/\.mim/[^"]+)"', block)
    assert converter, 'the Cityscapes conversion command is not in docs/training.md'
    mmseg_dir = subprocess.run(
        ['bash', '-c', converter.group(1)], capture_output=True, text=True, check=True
    ).stdout.strip()
    script = mmseg_dir + converter.group(2)
    assert osp.isfile(script), script
    assert "'_polygons.json', '_labelTrainIds.png'" in open(script).read()
    config = re.search(r'check_dataset\.py (configs/\S+\.py)', block).group(1)
    cfg = Config.fromfile(osp.join(repo_root, config))
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    assert cfg.train_dataloader.dataset.ann_file == 'annotations/instances_train2017.json'
    for name, root, image_dir in (
        ('sfpn_transxnet_t_ade20k', 'data/ade/ADEChallengeData2016', 'images/training'),
        ('segformer_dfformer_s18_cityscapes', 'data/cityscapes/', 'leftImg8bit/train'),
    ):
        dataset = Config.fromfile(
            osp.join(repo_root, 'configs', name + '.py')
        ).train_dataloader.dataset
        dataset = dataset.get('dataset', dataset)  # RepeatDataset wrappers
        assert dataset.data_root.rstrip('/') == root.rstrip('/')
        assert dataset.data_prefix.img_path == image_dir


def _damage_images(folder):
    """Three images of ``folder`` made unreadable in three ways; returns their paths."""
    images = sorted(folder.iterdir())
    empty, truncated, not_image = images[0], images[1], images[2]
    empty.write_bytes(b'')
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    not_image.write_text('this is a text file named like an image')
    return empty, truncated, not_image


def test_empty_truncated_and_non_image_files_are_named(toy_copy, repo_root, capsys):
    empty, truncated, not_image = _damage_images(toy_copy / 'images' / 'train')
    out = _failing_check(repo_root, 'retinanet_transxnet_t_toy.py', toy_copy, 'train', capsys)
    assert f'error: 1 x empty image file: {empty}' in out
    assert 'error: 2 x image files that cannot be read' in out
    assert f'{truncated} cannot be decoded completely' in out
    assert f'{not_image} is not an image' in out


def test_nan_and_all_invalid_boxes_are_reported(toy_copy, repo_root, capsys):
    ann_file = toy_copy / 'annotations' / 'instances_train.json'
    coco = json.loads(ann_file.read_text())
    first, second = coco['images'][:2]
    nan_box = next(a for a in coco['annotations'] if a['image_id'] == first['id'])
    nan_box['bbox'][0] = float('nan')
    for ann in coco['annotations']:
        if ann['image_id'] == second['id']:
            ann['bbox'][3] = 0
    ann_file.write_text(json.dumps(coco))  # json writes NaN, as Python's json reads it
    out = _failing_check(repo_root, 'retinanet_transxnet_t_toy.py', toy_copy, 'train', capsys)
    assert (
        f'error: 1 x boxes that are not four finite numbers [x, y, w, h]: annotation '
        f'{nan_box["id"]}' in out
    )
    assert (
        f'warning: 1 x images whose every box is invalid or zero-area (they train as '
        f'background only): {second["file_name"]}' in out
    )


def test_an_undecodable_label_map_is_named(toy_copy, repo_root, capsys):
    masks = sorted((toy_copy / 'masks' / 'train').iterdir())
    data = masks[0].read_bytes()
    masks[0].write_bytes(data[: len(data) // 2])
    out = _failing_check(repo_root, 'segformer_transxnet_t_toy.py', toy_copy, 'train', capsys)
    assert (
        f'error: 1 x label map files that cannot be read (truncated, damaged or not an '
        f'image): {masks[0]} cannot be decoded completely' in out
    )


def test_training_names_an_image_it_cannot_read(toy_copy, repo_root):
    """What tools/train.py and tools/test.py build: mmcv's LoadImageFromFile replaced by ours,
    whose error names the file (mmcv's is an unnamed cv2.error)."""
    import argparse

    from mmengine.registry import init_default_scope

    from mmtokenmix.datasets import ImageFileError
    from mmtokenmix.runtime import load_tool_config

    empty = sorted((toy_copy / 'images' / 'train').iterdir())[0]
    empty.write_bytes(b'')
    args = argparse.Namespace(
        config=osp.join(repo_root, 'configs', 'retinanet_transxnet_t_toy.py'),
        launcher='none',
        cfg_options=None,
        data_root=str(toy_copy),
        work_dir=None,
        local_rank=0,
    )
    cfg = load_tool_config(args)
    steps = cfg.train_dataloader.dataset.pipeline
    assert steps[0]['type'] == 'mmtokenmix.LoadImageFromFile'
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    index = next(
        i for i in range(len(dataset)) if dataset.get_data_info(i)['img_path'] == str(empty)
    )
    with pytest.raises(ImageFileError, match=f"cannot read image '{empty}'"):
        dataset[index]
    assert dataset[(index + 1) % len(dataset)]['inputs'].shape[0] == 3  # the others load
