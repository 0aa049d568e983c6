#!/usr/bin/env bash
# Create (or reuse) the project's environment, in two layers:
#   * the stack venv, shared by every checkout on the machine: the pinned stack of
#     requirements/stack.txt with mmcv 2.1.0's compiled ops for this machine (CPU, or CUDA for
#     the GPUs it finds); no checkout is ever installed into it;
#   * this checkout's venv, .venv-mmtokenmix/ in the checkout: sees the stack venv's packages
#     (a .pth line), has this checkout installed (`pip install -e .`) and the stack's commands
#     (mim, pytest, torchrun, pip, ...) run by its own interpreter. A second clone gets its own;
#     nothing one checkout's set-up does changes another checkout's environment.
#
#   source tools/setup_env.sh     # sets up if needed, then activates this checkout's venv
#
# The first time (measured on 2 cores: about 15 minutes; about 3 when the compiled mmcv wheel is
# already cached; a second checkout on a machine with the stack venv: seconds):
#   1. checks the interpreter (MMTOKENMIX_PYTHON, default python3.11; Python 3.9-3.11);
#   2. python -m venv under $MMTOKENMIX_CACHE (default ~/.cache/mmtokenmix), named after a hash of
#      requirements/stack.txt, requirements/lock.txt and the set-up scripts, so a changed pin
#      gives a fresh venv, and after the device (venv-<hash>-cpu, venv-<hash>-cuda), so a
#      device change builds a new venv beside the finished one;
#   3. pip installs torch 2.5.1 + torchvision 0.20.1 first (so nothing replaces them);
#   4. tools/misc/mmcv_build_plan.py decides the mmcv build: CPU ops, or CUDA ops for the GPUs
#      torch sees (or TORCH_CUDA_ARCH_LIST) after checking for an nvcc matching torch's CUDA;
#      MMTOKENMIX_DEVICE=cpu|cuda overrides the automatic choice;
#   5. compiles mmcv 2.1.0 (about 8 minutes on 2 cores for the CPU ops), unless a wheel of the same
#      flavour is cached in $MMTOKENMIX_CACHE/wheels/mmcv-2.1.0-torch<version>-<python>-<flavour>/
#      (a wheel is only reused with the torch, Python and flavour -- cpu, or CUDA version + GPU
#      architectures -- it was built for);
#   6. installs every package of requirements/lock.txt at its locked version (the whole resolved
#      stack, checked against requirements/stack.txt), mmdet 3.3.0, mmsegmentation 1.2.2,
#      mmpretrain 1.2.0, mmdeploy 1.3.1 + mmdeploy-runtime 1.3.1 and openmim 0.3.9 (these
#      without their unpinned dependencies);
#   7. tools/misc/check_stack.py imports everything and runs mmcv.ops.nms / RoIAlign on the device
#      that will be used (on a GPU: equal to the CPU ops); only then is the venv stamped finished;
#   8. makes this checkout's venv on it (`python -m venv --without-pip`, the .pth line, the
#      stack's commands, `pip install -e . --no-deps`) and checks that `import mmtokenmix` finds
#      this checkout. When the stack venv changes (a new pin), the checkout's venv is made anew.
# An interrupted set-up is never taken for finished: the next run removes the unfinished venv it
# started and starts again (the wheel cache only ever holds complete wheels). Concurrent set-ups
# wait for each other. Later runs see the stamps and only activate (under a second).
# MMTOKENMIX_VENV picks another stack venv location, MMTOKENMIX_CHECKOUT_VENV another location for
# this checkout's venv.

# (sourced: ``source tools/setup_env.sh --help`` prints this and returns)
if [ "${BASH_SOURCE[0]}" != "$0" ] && { [ "$1" = -h ] || [ "$1" = --help ]; }; then
    sed -n '2,/^[^#]/{/^#/{s/^# \{0,1\}//;p;};}' "${BASH_SOURCE[0]}"
    return 0
fi

_mmtm_cheap_device() {
    # the device a fresh set-up would target, without importing torch (for the fast path)
    local requested="${MMTOKENMIX_DEVICE:-auto}"
    if [ "$requested" != auto ]; then echo "$requested"; return; fi
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
        echo cuda
    else
        echo cpu
    fi
}

_mmtm_ready() {
    # finished (stamped); a finished venv of another device is never rebuilt or removed (the
    # default venv path names the device, so a device change builds a new venv beside it)
    local venv=$1 stamp
    stamp="$venv/.mmtokenmix-ready"
    [ -f "$stamp" ] || return 1
    if ! grep -q "^device=$(_mmtm_cheap_device)\$" "$stamp"; then
        echo "[setup] ERROR: $venv was built for $(grep '^device=' "$stamp"), but this machine" \
             "asks for device=$(_mmtm_cheap_device) (MMTOKENMIX_DEVICE or GPUs found). It is" \
             "left as it is: set MMTOKENMIX_VENV to another path (or unset it), or" \
             "MMTOKENMIX_DEVICE=$(grep '^device=' "$stamp" | cut -d= -f2)." >&2
        return 2
    fi
}

_mmtm_checkout_ready() {
    # this checkout's venv is finished, made on this stack venv, for this checkout
    local repo=$1 stack=$2 checkout_venv=$3
    [ "$(cat "$checkout_venv/.mmtokenmix-checkout-venv" 2>/dev/null)" = \
      "$(printf 'stack=%s\nrepo=%s' "$stack" "$repo")" ] && [ -e "$repo/mmtokenmix/.mim/configs" ]
}

_mmtm_make_checkout_venv() {
    # this checkout's own venv on top of the shared stack venv (step 8 above)
    local repo=$1 stack=$2 checkout_venv=$3 stack_lib own_lib name script t0=$SECONDS
    if [ -e "$checkout_venv" ]; then
        if [ ! -f "$checkout_venv/.mmtokenmix-checkout-venv" ] \
                && [ ! -f "$checkout_venv/.mmtokenmix-building" ]; then
            echo "[setup] ERROR: $checkout_venv exists but is not an environment this set-up" \
                 "made; it is left as it is: remove it yourself or set" \
                 "MMTOKENMIX_CHECKOUT_VENV elsewhere." >&2
            return 1
        fi
        echo "[setup] making $checkout_venv anew (unfinished, or made on another stack venv)"
        rm -rf "$checkout_venv" || return 1
    fi
    echo "[setup] making this checkout's venv $checkout_venv on $stack"
    "$stack/bin/python" -m venv --without-pip "$checkout_venv" || return 1
    touch "$checkout_venv/.mmtokenmix-building"
    local purelib='import sysconfig; print(sysconfig.get_paths()["purelib"])'
    stack_lib="$("$stack/bin/python" -c "$purelib")" || return 1
    own_lib="$("$checkout_venv/bin/python" -c "$purelib")" || return 1
    # after this venv's own site-packages: the stack's (addsitedir also runs the stack's .pth)
    echo "import site; site.addsitedir('$stack_lib')" > "$own_lib/_mmtokenmix_stack.pth"
    # the stack's commands, run by this venv's interpreter (so that they see this checkout)
    for script in "$stack"/bin/*; do
        name="$(basename "$script")"
        case "$name" in python*|activate*|Activate.ps1) continue ;; esac
        if head -n 1 "$script" | grep -Eq "^#!$stack/bin/python[0-9.]*\$"; then
            sed "1s|.*|#!$checkout_venv/bin/python|" "$script" > "$checkout_venv/bin/$name"
            chmod +x "$checkout_venv/bin/$name"
        else
            ln -s "$script" "$checkout_venv/bin/$name"  # a binary (ninja, ruff, ...)
        fi
    done
    (cd "$repo" && PIP_DISABLE_PIP_VERSION_CHECK=1 "$checkout_venv/bin/python" -m pip install \
        -q --no-deps --no-build-isolation -e .) || return 1
    (cd / && "$checkout_venv/bin/python" -c "
import os, sys, mmtokenmix
found = os.path.realpath(os.path.dirname(mmtokenmix.__file__))
sys.exit(0 if found == os.path.realpath('$repo/mmtokenmix') else f'imports {found}')
") || { echo "[setup] ERROR: import mmtokenmix does not find $repo" >&2; return 1; }
    printf 'stack=%s\nrepo=%s' "$stack" "$repo" > "$checkout_venv/.mmtokenmix-checkout-venv"
    rm -f "$checkout_venv/.mmtokenmix-building"
    echo "[setup] this checkout's venv is ready ($((SECONDS - t0)) s)"
}

_mmtm_build() {
    local repo=$1 python=$2 cache=$3 venv=$4
    local torch_ver py_tag wheel_dir wheel tmp plan t0=$SECONDS
    local MMCV_DEVICE MMCV_FLAVOUR MMCV_CHECK_DEVICE MMCV_BUILD_ENV

    if ! command -v "$python" >/dev/null 2>&1; then
        echo "[setup] ERROR: the interpreter '$python' was not found. Install Python 3.11 (e.g." \
             "'apt-get install python3.11 python3.11-venv python3.11-dev' or 'pyenv install 3.11')" \
             "or set MMTOKENMIX_PYTHON to a Python 3.9-3.11 interpreter." >&2
        return 1
    fi
    "$python" "$repo/tools/misc/mmcv_build_plan.py" check-python || return 1
    if [ -e "$venv" ]; then
        # only a venv this script started (marked when created) is ours to remove
        if [ ! -f "$venv/.mmtokenmix-building" ]; then
            echo "[setup] ERROR: $venv exists but is not an environment this set-up made;" \
                 "it is left as it is: remove it yourself or set MMTOKENMIX_VENV elsewhere." >&2
            return 1
        fi
        echo "[setup] removing the unfinished environment $venv (an earlier set-up did not complete)"
        rm -rf "$venv" || return 1
    fi
    echo "[setup] creating $venv (about 15 minutes on 2 cores, most of it compiling mmcv;" \
         "about 3 with a cached mmcv wheel)"
    mkdir -p "$cache/wheels"
    if ! "$python" -m venv "$venv"; then
        echo "[setup] ERROR: '$python -m venv' failed; on Debian/Ubuntu install the venv module" \
             "('apt-get install python3.11-venv')." >&2
        rm -rf "$venv"
        return 1
    fi
    touch "$venv/.mmtokenmix-building"  # ours: a later set-up may remove it if unfinished
    # shellcheck disable=SC1091
    . "$venv/bin/activate"
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    # constraints keep every later install on the pinned torch/torchvision/numpy/setuptools
    local constraints="$venv/constraints.txt"
    grep -E '^(torch|torchvision|numpy|setuptools)==' "$repo/requirements/stack.txt" > "$constraints"

    echo "[setup] installing torch, torchvision and build tools"
    pip install -q -c "$constraints" torch torchvision numpy setuptools wheel ninja || return 1

    plan="$(python "$repo/tools/misc/mmcv_build_plan.py" plan)" || return 1
    eval "$plan"
    torch_ver="$(python -c 'import torch; print(torch.__version__)')" || return 1
    py_tag="$(python -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
    wheel_dir="$cache/wheels/mmcv-2.1.0-torch${torch_ver}-${py_tag}-${MMCV_FLAVOUR}"
    wheel="$(ls "$wheel_dir"/mmcv-2.1.0-*.whl 2>/dev/null | head -n 1)"
    if [ -z "$wheel" ]; then
        python "$repo/tools/misc/mmcv_build_plan.py" check-build-tools || return 1
        echo "[setup] compiling mmcv 2.1.0 ($MMCV_FLAVOUR ops) against torch $torch_ver" \
             "(CPU ops: about 8 minutes on 2 idle cores)"
        # built next to the cache and renamed into place: a killed build leaves no wheel behind
        tmp="$(mktemp -d "$cache/wheels/.build-XXXXXX")" || return 1
        env "${MMCV_BUILD_ENV[@]}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            pip wheel -q --no-build-isolation --no-deps --no-cache-dir -w "$tmp" mmcv==2.1.0 \
            || { rm -rf "$tmp"; return 1; }
        mkdir -p "$wheel_dir"
        wheel="$(ls "$tmp"/mmcv-2.1.0-*.whl | head -n 1)"
        mv "$wheel" "$wheel_dir/" && rm -rf "$tmp" || return 1
        wheel="$wheel_dir/$(basename "$wheel")"
    else
        echo "[setup] reusing the cached mmcv wheel $wheel"
    fi

    echo "[setup] installing the locked stack (requirements/lock.txt)"
    if [ -f "$repo/requirements/lock.txt" ]; then
        # exactly the locked versions, nothing resolved anew; then stack.txt must be satisfied
        # by them (an unlocked or conflicting package is an error, not an upgrade)
        pip install -q --no-deps -c "$constraints" -r "$repo/requirements/lock.txt" || return 1
        pip install -q -c "$constraints" -c "$repo/requirements/lock.txt" \
            -r "$repo/requirements/stack.txt" || return 1
    else
        echo "[setup] WARNING: no requirements/lock.txt: resolving requirements/stack.txt afresh" \
             "(write the lock with python tools/misc/lock_stack.py)"
        pip install -q -c "$constraints" -r "$repo/requirements/stack.txt" || return 1
    fi
    pip install -q -c "$constraints" "$wheel" || return 1
    pip install -q --no-deps mmdet==3.3.0 mmsegmentation==1.2.2 mmpretrain==1.2.0 \
        mmdeploy==1.3.1 mmdeploy-runtime==1.3.1 openmim==0.3.9 || return 1

    echo "[setup] checking the stack on $MMCV_CHECK_DEVICE"
    python "$repo/tools/misc/check_stack.py" --device "$MMCV_CHECK_DEVICE" || return 1
    pip freeze > "$venv/pip-freeze.txt"
    printf 'device=%s\nflavour=%s\n' "$MMCV_DEVICE" "$MMCV_FLAVOUR" > "$venv/.mmtokenmix-ready"
    rm -f "$venv/.mmtokenmix-building"
    echo "[setup] done in $((SECONDS - t0)) s"
}

_mmtm_setup() {
    local repo python cache stack_hash venv checkout_venv
    repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    python="${MMTOKENMIX_PYTHON:-python3.11}"
    cache="${MMTOKENMIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmtokenmix}"
    stack_hash="$(cat "$repo/requirements/stack.txt" "$repo/tools/setup_env.sh" \
                      "$repo/tools/misc/mmcv_build_plan.py" "$repo/requirements/lock.txt" \
                      2>/dev/null | sha256sum | cut -c1-12)"
    venv="${MMTOKENMIX_VENV:-$cache/venv-$stack_hash-$(_mmtm_cheap_device)}"
    checkout_venv="${MMTOKENMIX_CHECKOUT_VENV:-$repo/.venv-mmtokenmix}"

    _mmtm_ready "$venv"
    case $? in
        0) ;;
        2) return 1 ;;  # finished for another device: refused, left as it is
        *)
            mkdir -p "$cache" || return 1
            # one set-up at a time per cache; a waiting one finds the venv finished and stops
            (
                flock 9
                _mmtm_ready "$venv" >/dev/null || _mmtm_build "$repo" "$python" "$cache" "$venv"
            ) 9>"$cache/setup.lock" || return 1
            ;;
    esac
    if ! _mmtm_checkout_ready "$repo" "$venv" "$checkout_venv"; then
        mkdir -p "$cache" || return 1
        (
            flock 9
            _mmtm_checkout_ready "$repo" "$venv" "$checkout_venv" \
                || _mmtm_make_checkout_venv "$repo" "$venv" "$checkout_venv"
        ) 9>"$cache/setup.lock" || return 1
    fi
    # shellcheck disable=SC1091
    . "$checkout_venv/bin/activate"
}

_mmtm_setup || { echo "[setup] FAILED (see the messages above)" >&2; return 1 2>/dev/null || exit 1; }
unset -f _mmtm_setup _mmtm_build _mmtm_ready _mmtm_cheap_device _mmtm_checkout_ready \
    _mmtm_make_checkout_venv
