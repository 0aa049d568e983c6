# ADE20K (ade20k.py) tested as the official TransXNet Semantic FPN recipe does (SegFormer's
# "AlignResize"): rescale to fit (2048, 512) keeping the ratio, then stretch both sides up to
# the next multiple of 32 -- two interpolations, so no padded border reaches the network.
# mmseg's Resize(keep_ratio=True) + ResizeToMultiple compute exactly that (same rescale, sides
# rounded up); tests/test_transforms.py checks it against the recipe's two steps.
_base_ = './ade20k.py'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 512), keep_ratio=True),
    dict(type='ResizeToMultiple', size_divisor=32),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs')
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
