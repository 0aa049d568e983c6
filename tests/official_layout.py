"""The official state-dict layouts (TransXNet, DFFormer/CDFFormer, MobileViT-S and the upstream
dense heads), written from the official code's key/shape tables independently of mmtokenmix's
code, to synthesise checkpoints in the official formats."""

import math
from collections import OrderedDict

ARCHS = {
    't': dict(
        layers=[3, 3, 9, 3],
        dims=[48, 96, 224, 448],
        groups=[2, 2, 2, 2],
        heads=[1, 2, 4, 8],
        mlp=[4, 4, 4, 4],
    ),
    's': dict(
        layers=[4, 4, 12, 4],
        dims=[64, 128, 320, 512],
        groups=[2, 2, 3, 4],
        heads=[1, 2, 5, 8],
        mlp=[6, 6, 4, 4],
    ),
    'b': dict(
        layers=[4, 4, 21, 4],
        dims=[76, 152, 336, 672],
        groups=[2, 2, 4, 4],
        heads=[2, 4, 8, 16],
        mlp=[8, 8, 4, 4],
    ),
}
SR = [8, 4, 2, 1]


def _bn(prefix, c):
    return {
        f'{prefix}.weight': (c,),
        f'{prefix}.bias': (c,),
        f'{prefix}.running_mean': (c,),
        f'{prefix}.running_var': (c,),
        f'{prefix}.num_batches_tracked': (),
    }


def _block(p, C, G, r, mlp):
    c, hidden, inner = C // 2, C * mlp, max(16, C // 8)
    s = {
        f'{p}pos_embed.weight': (C, 1, 7, 7),
        f'{p}pos_embed.bias': (C,),
        f'{p}norm1.weight': (C,),
        f'{p}norm1.bias': (C,),
        f'{p}token_mixer.local_unit.weight': (G, c, 7, 7),
        f'{p}token_mixer.local_unit.bias': (G, c),
        f'{p}token_mixer.local_unit.proj.0.conv.weight': (c // 4, c, 1, 1),
        f'{p}token_mixer.local_unit.proj.1.weight': (G * c, c // 4, 1, 1),
        f'{p}token_mixer.local_unit.proj.1.bias': (G * c,),
        f'{p}token_mixer.global_unit.q.weight': (c, c, 1, 1),
        f'{p}token_mixer.global_unit.q.bias': (c,),
        f'{p}token_mixer.global_unit.kv.weight': (2 * c, c, 1, 1),
        f'{p}token_mixer.global_unit.kv.bias': (2 * c,),
        f'{p}token_mixer.global_unit.local_conv.weight': (c, 1, 3, 3),
        f'{p}token_mixer.global_unit.local_conv.bias': (c,),
        f'{p}token_mixer.proj.0.weight': (C, 1, 3, 3),
        f'{p}token_mixer.proj.0.bias': (C,),
        f'{p}token_mixer.proj.3.weight': (inner, C, 1, 1),
        f'{p}token_mixer.proj.3.bias': (inner,),
        f'{p}token_mixer.proj.6.weight': (C, inner, 1, 1),
        f'{p}token_mixer.proj.6.bias': (C,),
        f'{p}norm2.weight': (C,),
        f'{p}norm2.bias': (C,),
        f'{p}mlp.fc1.0.weight': (hidden, C, 1, 1),
        f'{p}mlp.fc2.0.weight': (C, hidden, 1, 1),
        f'{p}layer_scale_1.weight': (C, 1, 1, 1),
        f'{p}layer_scale_1.bias': (C,),
        f'{p}layer_scale_2.weight': (C, 1, 1, 1),
        f'{p}layer_scale_2.bias': (C,),
    }
    s.update(_bn(f'{p}token_mixer.local_unit.proj.0.bn', c // 4))
    if r > 1:
        s[f'{p}token_mixer.global_unit.sr.0.conv.weight'] = (c, 1, r + 3, r + 3)
        s[f'{p}token_mixer.global_unit.sr.1.conv.weight'] = (c, 1, 1, 1)
        s.update(_bn(f'{p}token_mixer.global_unit.sr.0.bn', c))
        s.update(_bn(f'{p}token_mixer.global_unit.sr.1.bn', c))
    s.update(_bn(f'{p}token_mixer.proj.2', C))
    s.update(_bn(f'{p}token_mixer.proj.5', inner))
    s.update(_bn(f'{p}token_mixer.proj.7', C))
    s.update(_bn(f'{p}mlp.fc1.2', hidden))
    s.update(_bn(f'{p}mlp.norm', hidden))
    s.update(_bn(f'{p}mlp.fc2.1', C))
    split = [hidden - 3 * (hidden // 4)] + [hidden // 4] * 3
    for i, (ch, k) in enumerate(zip(split, (1, 3, 5, 7))):
        s[f'{p}mlp.dwconv.proj.{i}.weight'] = (ch, 1, k, k)
        s[f'{p}mlp.dwconv.proj.{i}.bias'] = (ch,)
    return s


def official_shapes(arch='t', dense_norms=(), num_classes=1000, image_size=224):
    """key -> shape of an official checkpoint. ``dense_norms``: stages whose ``norm{2i}`` the
    dense wrapper has (then there is no classifier)."""
    a = ARCHS[arch]
    dims = a['dims']
    s = OrderedDict({'patch_embed.proj.conv.weight': (dims[0], 3, 7, 7)})
    s.update(_bn('patch_embed.proj.bn', dims[0]))
    h = math.ceil(image_size / 4)
    for i in range(4):
        kv = math.ceil(h / SR[i]) ** 2
        s[f'relative_pos_enc.{i}'] = (1, a['heads'][i], h * h, kv)
        h = math.ceil(h / 2)
    for i in range(4):
        if i > 0:
            s[f'network.{2 * i - 1}.proj.conv.weight'] = (dims[i], dims[i - 1], 3, 3)
            s.update(_bn(f'network.{2 * i - 1}.proj.bn', dims[i]))
        for j in range(a['layers'][i]):
            s.update(_block(f'network.{2 * i}.{j}.', dims[i], a['groups'][i], SR[i], a['mlp'][i]))
    if dense_norms:
        for i in dense_norms:
            s[f'norm{2 * i}.weight'] = (dims[i],)
            s[f'norm{2 * i}.bias'] = (dims[i],)
    else:
        s['classifier.0.weight'] = (dims[-1],)
        s['classifier.0.bias'] = (dims[-1],)
        s['classifier.2.weight'] = (num_classes, dims[-1], 1, 1)
        s['classifier.2.bias'] = (num_classes,)
    return s


def random_state_dict(shapes, seed=0):
    import torch

    g = torch.Generator().manual_seed(seed)
    out = OrderedDict()
    for k, shape in shapes.items():
        if k.endswith('num_batches_tracked'):
            out[k] = torch.tensor(7)
        elif k.endswith('running_var'):
            out[k] = torch.rand(shape, generator=g) + 0.5
        else:
            out[k] = torch.randn(shape, generator=g) * 0.1
    return out


# ---- whole dense checkpoints of the official repo (mmdet 2.28 / mmseg 0.30 key names) --------
def _conv(prefix, c_out, c_in, k, bias=True):
    s = {f'{prefix}.weight': (c_out, c_in, k, k)}
    if bias:
        s[f'{prefix}.bias'] = (c_out,)
    return s


def _fpn(lateral_in, extra_in=()):
    """mmdet/mmseg FPN with 256 outputs: lateral 1x1 + output 3x3 per level, plus extra convs."""
    s = OrderedDict()
    for i, c in enumerate(lateral_in):
        s.update(_conv(f'neck.lateral_convs.{i}.conv', 256, c, 1))
    for i in range(len(lateral_in)):
        s.update(_conv(f'neck.fpn_convs.{i}.conv', 256, 256, 3))
    for j, c in enumerate(extra_in):
        s.update(_conv(f'neck.fpn_convs.{len(lateral_in) + j}.conv', 256, c, 3))
    return s


def official_dense_shapes(model, arch='t', num_classes=None):
    """key -> shape of an official COCO / ADE20K checkpoint of TransXNet-``arch``:
    ``'retinanet'`` (FPN start_level=1, no norm0), ``'maskrcnn'`` or ``'sfpn'``."""
    norms = (1, 2, 3) if model == 'retinanet' else (0, 1, 2, 3)
    s = OrderedDict(
        ('backbone.' + k, v) for k, v in official_shapes(arch, dense_norms=norms).items()
    )
    s.update(dense_head_shapes(model, ARCHS[arch]['dims'], num_classes))
    return s


def dense_head_shapes(model, dims, num_classes=None):
    """key -> shape of the neck and heads of an official mmdet 2.x / mmseg 0.x model on a
    backbone with stage widths ``dims``."""
    nc = num_classes or {'retinanet': 80, 'maskrcnn': 80}.get(model, 150)
    s = OrderedDict()
    if model == 'retinanet':
        s.update(_fpn(dims[1:], extra_in=(dims[3], 256)))
        for branch in ('cls_convs', 'reg_convs'):
            for i in range(4):
                s.update(_conv(f'bbox_head.{branch}.{i}.conv', 256, 256, 3))
        s.update(_conv('bbox_head.retina_cls', 9 * nc, 256, 3))
        s.update(_conv('bbox_head.retina_reg', 9 * 4, 256, 3))
    elif model == 'maskrcnn':
        s.update(_fpn(dims))
        s.update(_conv('rpn_head.rpn_conv', 256, 256, 3))
        s.update(_conv('rpn_head.rpn_cls', 3, 256, 1))
        s.update(_conv('rpn_head.rpn_reg', 12, 256, 1))
        s.update(
            {
                'roi_head.bbox_head.fc_cls.weight': (nc + 1, 1024),
                'roi_head.bbox_head.fc_cls.bias': (nc + 1,),
                'roi_head.bbox_head.fc_reg.weight': (4 * nc, 1024),
                'roi_head.bbox_head.fc_reg.bias': (4 * nc,),
                'roi_head.bbox_head.shared_fcs.0.weight': (1024, 256 * 7 * 7),
                'roi_head.bbox_head.shared_fcs.0.bias': (1024,),
                'roi_head.bbox_head.shared_fcs.1.weight': (1024, 1024),
                'roi_head.bbox_head.shared_fcs.1.bias': (1024,),
            }
        )
        for i in range(4):
            s.update(_conv(f'roi_head.mask_head.convs.{i}.conv', 256, 256, 3))
        s.update(
            {
                'roi_head.mask_head.upsample.weight': (256, 256, 2, 2),
                'roi_head.mask_head.upsample.bias': (256,),
            }
        )
        s.update(_conv('roi_head.mask_head.conv_logits', nc, 256, 1))
    elif model == 'sfpn':
        s.update(_fpn(dims))
        # FPNHead: level i has max(1, i) conv(+upsample) pairs; conv biases off (SyncBN)
        for i in range(4):
            for k in range(max(1, i)):
                p = f'decode_head.scale_heads.{i}.{2 * k}'
                s.update(_conv(f'{p}.conv', 128, 256 if k == 0 else 128, 3, bias=False))
                s.update(_bn(f'{p}.bn', 128))
        s.update(_conv('decode_head.conv_seg', nc, 128, 1))
    else:
        raise ValueError(model)
    return s


# ---- DFFormer / CDFFormer (the official models/dfformer.py layout) --------------------------
DF_ARCHS = {
    's18': ([3, 3, 9, 3], [64, 128, 320, 512]),
    's36': ([3, 12, 18, 3], [64, 128, 320, 512]),
    'm36': ([3, 12, 18, 3], [96, 192, 384, 576]),
    'b36': ([3, 12, 18, 3], [128, 256, 512, 768]),
}


def dfformer_shapes(family='dfformer', arch='s18', size=224, dense_norms=()):
    """key -> shape of an official DFFormer/CDFFormer state dict: the ImageNet classifier
    (``size`` 224), or with ``dense_norms`` the official dense backbone (filter bases for
    ``size`` 800 / 512, output norms ``norm{i}``, no head)."""
    depths, dims = DF_ARCHS[arch]
    s = OrderedDict(
        {
            'downsample_layers.0.conv.weight': (dims[0], 3, 7, 7),
            'downsample_layers.0.conv.bias': (dims[0],),
            'downsample_layers.0.post_norm.weight': (dims[0],),
        }
    )
    for i in range(1, 4):
        s[f'downsample_layers.{i}.pre_norm.weight'] = (dims[i - 1],)
        s[f'downsample_layers.{i}.conv.weight'] = (dims[i], dims[i - 1], 3, 3)
        s[f'downsample_layers.{i}.conv.bias'] = (dims[i],)
    for i, (depth, C) in enumerate(zip(depths, dims)):
        for j in range(depth):
            p = f'stages.{i}.{j}.'
            s[p + 'norm1.weight'] = (C,)
            m = p + 'token_mixer.'
            if family == 'cdfformer' and i < 2:
                s.update(
                    {
                        m + 'pwconv1.weight': (2 * C, C),
                        m + 'act1.scale': (1,),
                        m + 'act1.bias': (1,),
                        m + 'dwconv.weight': (2 * C, 1, 7, 7),
                        m + 'pwconv2.weight': (C, 2 * C),
                    }
                )
            else:
                s.update(
                    {
                        m + 'complex_weights': (
                            size // 2 ** (i + 2),
                            size // 2 ** (i + 3) + 1,
                            4,
                            2,
                        ),
                        m + 'pwconv1.weight': (2 * C, C),
                        m + 'act1.scale': (1,),
                        m + 'act1.bias': (1,),
                        m + 'reweight.fc1.weight': (C // 4, C),
                        m + 'reweight.act.scale': (1,),
                        m + 'reweight.act.bias': (1,),
                        m + 'reweight.fc2.weight': (4 * 2 * C, C // 4),
                        m + 'pwconv2.weight': (C, 2 * C),
                    }
                )
            s.update(
                {
                    p + 'norm2.weight': (C,),
                    p + 'mlp.fc1.weight': (4 * C, C),
                    p + 'mlp.act.scale': (1,),
                    p + 'mlp.act.bias': (1,),
                    p + 'mlp.fc2.weight': (C, 4 * C),
                }
            )
            if i >= 2:
                s[p + 'res_scale1.scale'] = (C,)
                s[p + 'res_scale2.scale'] = (C,)
    if dense_norms:
        for i in dense_norms:
            s[f'norm{i}.weight'] = (dims[i],)
            s[f'norm{i}.bias'] = (dims[i],)
    else:
        C = dims[-1]
        s.update(
            {
                'norm.weight': (C,),
                'norm.bias': (C,),
                'head.fc1.weight': (4 * C, C),
                'head.fc1.bias': (4 * C,),
                'head.norm.weight': (4 * C,),
                'head.norm.bias': (4 * C,),
                'head.fc2.weight': (1000, 4 * C),
                'head.fc2.bias': (1000,),
            }
        )
    return s


def dfformer_dense_shapes(model, family='dfformer', arch='s18', norms=(0, 1, 2, 3)):
    """key -> shape of a whole official DFFormer RetinaNet (nominal 800) or Semantic FPN
    (nominal 512) checkpoint; ``norms``: the backbone's output norms (RetinaNet without
    FORK_LAST3 keeps all four)."""
    size = 800 if model == 'retinanet' else 512
    s = OrderedDict(
        ('backbone.' + k, v)
        for k, v in dfformer_shapes(family, arch, size, dense_norms=norms).items()
    )
    s.update(dense_head_shapes(model, DF_ARCHS[arch][1]))
    return s


# ---- MobileViT-S in mmpretrain's layout (mmpretrain/models/backbones/mobilevit.py, arch 'small')
def _conv_bn(prefix, c_out, c_in, k, groups=1):
    s = {f'{prefix}.conv.weight': (c_out, c_in // groups, k, k)}
    s.update(_bn(f'{prefix}.bn', c_out))
    return s


def _inverted_residual(prefix, c_in, c_out, expand):
    hidden = c_in * expand
    s = OrderedDict()
    s.update(_conv_bn(f'{prefix}.conv.0', hidden, c_in, 1))
    s.update(_conv_bn(f'{prefix}.conv.1', hidden, hidden, 3, groups=hidden))
    s.update(_conv_bn(f'{prefix}.conv.2', c_out, hidden, 1))
    return s


def mobilevit_s_shapes(with_head=True):
    """key -> shape of mmpretrain's MobileViT-S classifier checkpoint (``backbone.`` prefix,
    ``head.fc``)."""
    s = OrderedDict(_conv_bn('stem', 16, 3, 3))
    s.update(_inverted_residual('layers.0.0', 16, 32, 4))
    for j, c_in in enumerate((32, 64, 64)):
        s.update(_inverted_residual(f'layers.1.{j}', c_in, 64, 4))
    c_in = 64
    for i, (C, d, ffn, depth) in enumerate(
        [(96, 144, 288, 2), (128, 192, 384, 4), (160, 240, 480, 3)], start=2
    ):
        s.update(_inverted_residual(f'layers.{i}.0', c_in, C, 4))
        p = f'layers.{i}.1.'
        s.update(_conv_bn(p + 'local_rep.0', C, C, 3))
        s[p + 'local_rep.1.conv.weight'] = (d, C, 1, 1)
        for j in range(depth):
            q = f'{p}global_rep.{j}.'
            s.update(
                {
                    q + 'ln1.weight': (d,),
                    q + 'ln1.bias': (d,),
                    q + 'attn.qkv.weight': (3 * d, d),
                    q + 'attn.qkv.bias': (3 * d,),
                    q + 'attn.proj.weight': (d, d),
                    q + 'attn.proj.bias': (d,),
                    q + 'ln2.weight': (d,),
                    q + 'ln2.bias': (d,),
                    q + 'ffn.layers.0.0.weight': (ffn, d),
                    q + 'ffn.layers.0.0.bias': (ffn,),
                    q + 'ffn.layers.1.weight': (d, ffn),
                    q + 'ffn.layers.1.bias': (d,),
                }
            )
        s.update({f'{p}global_rep.{depth}.weight': (d,), f'{p}global_rep.{depth}.bias': (d,)})
        s.update(_conv_bn(p + 'conv_proj', C, d, 1))
        s.update(_conv_bn(p + 'conv_fusion', C, 2 * C, 3))
        c_in = C
    s.update(_conv_bn('conv_1x1_exp', 640, 160, 1))
    s = OrderedDict(('backbone.' + k, v) for k, v in s.items())
    if with_head:
        s.update({'head.fc.weight': (1000, 640), 'head.fc.bias': (1000,)})
    return s
