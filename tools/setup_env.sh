#!/usr/bin/env bash
# Create (or reuse) the project's virtualenv with the pinned stack of requirements/stack.txt.
#
#   source tools/setup_env.sh     # sets up if needed, then activates the venv in this shell
#
# What it does the first time (measured: 908 s on a 2-core machine, 187 s when the compiled mmcv
# wheel is already cached):
#   1. python3.11 -m venv under $MMTOKENMIX_CACHE (default ~/.cache/mmtokenmix), named after a
#      hash of requirements/stack.txt and this script, so a changed pin gives a fresh venv;
#   2. pip installs the stack (torch 2.5.1 + torchvision 0.20.1 first, so nothing replaces them);
#   3. builds mmcv 2.1.0 from source with its CPU ops (about 8 minutes), unless a wheel built
#      against this exact torch is already in $MMTOKENMIX_CACHE/wheels/; the wheel is cached there
#      under a folder named after the torch version (pip's own cache does not know which torch a
#      wheel was compiled against, and a wheel built against another torch is ABI-broken);
#   4. installs mmdet 3.3.0 and mmsegmentation 1.2.2 without their (unpinned) dependencies;
#   5. checks that mmcv's compiled ops, mmdet, mmseg and timm import, then writes a stamp file.
# Later runs see the stamp and only activate the venv (well under a second).
# Set MMTOKENMIX_VENV to use another venv location.

_mmtm_setup() {
    local repo python cache stack_hash venv torch_ver py_tag wheel_dir wheel tmp
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    python="${MMTOKENMIX_PYTHON:-python3.11}"
    cache="${MMTOKENMIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmtokenmix}"
    stack_hash="$(cat "$repo/requirements/stack.txt" "$repo/tools/setup_env.sh" | sha256sum | cut -c1-12)"
    venv="${MMTOKENMIX_VENV:-$cache/venv-$stack_hash}"

    if [ -f "$venv/.mmtokenmix-ready" ]; then
        # shellcheck disable=SC1091
        . "$venv/bin/activate"
        return 0
    fi

    echo "[setup] creating $venv (about 15 minutes, most of it compiling mmcv; about 3 with a cached mmcv wheel)"
    local t0=$SECONDS
    rm -rf "$venv"
    mkdir -p "$cache/wheels"
    "$python" -m venv "$venv" || return 1
    # shellcheck disable=SC1091
    . "$venv/bin/activate"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    # constraints keep every later install on the pinned torch/torchvision/numpy/setuptools
    local constraints="$venv/constraints.txt"
    grep -E '^(torch|torchvision|numpy|setuptools)==' "$repo/requirements/stack.txt" > "$constraints"

    echo "[setup] installing torch, torchvision and build tools"
    pip install -q -c "$constraints" torch torchvision numpy setuptools wheel ninja || return 1

    torch_ver="$(python -c 'import torch; print(torch.__version__)')" || return 1
    py_tag="$(python -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
    wheel_dir="$cache/wheels/mmcv-2.1.0-torch${torch_ver}-${py_tag}"
    wheel="$(ls "$wheel_dir"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1)"
    if [ -z "$wheel" ]; then
        echo "[setup] compiling mmcv 2.1.0 CPU ops against torch $torch_ver (about 8 minutes on 2 idle cores)"
        tmp="$(mktemp -d)"
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" pip wheel -q --no-build-isolation --no-deps \
            --no-cache-dir -w "$tmp" mmcv==2.1.0 || { rm -rf "$tmp"; return 1; }
        mkdir -p "$wheel_dir"
        mv "$tmp"/mmcv-2.1.0-*.whl "$wheel_dir"/ && rm -rf "$tmp"
        wheel="$(ls "$wheel_dir"/mmcv-2.1.0-*.whl | head -n 1)"
    else
        echo "[setup] reusing cached mmcv wheel $wheel"
    fi

    echo "[setup] installing the pinned stack"
    pip install -q -c "$constraints" -r "$repo/requirements/stack.txt" || return 1
    pip install -q -c "$constraints" "$wheel" || return 1
    pip install -q --no-deps mmdet==3.3.0 mmsegmentation==1.2.2 || return 1

    echo "[setup] checking the stack"
    python - <<'PY' || return 1
import mmcv, mmcv.ops, mmdet.models, mmseg.models, timm, torch, torchvision  # noqa: F401
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
nms(boxes, torch.tensor([0.9, 0.8]), 0.5)
print(f'[setup] torch {torch.__version__}, torchvision {torchvision.__version__}, mmcv {mmcv.__version__} '
      f'(ops ok), mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, timm {timm.__version__}')
PY
    pip freeze > "$venv/pip-freeze.txt"
    touch "$venv/.mmtokenmix-ready"
    echo "[setup] done in $((SECONDS - t0)) s"
}

_mmtm_setup || { echo "[setup] FAILED" >&2; return 1 2>/dev/null || exit 1; }
unset -f _mmtm_setup
