"""A checkpoint hook that survives a kill at any moment and resumes the run exactly.

mmengine's ``CheckpointHook`` (0.10) has two gaps that lose or change a killed run:

* it deletes the oldest checkpoint (``max_keep_ckpts``) and the previous best one *before*
  writing the new file, and writes files and ``last_checkpoint`` in place, so a kill during a
  save can leave no usable checkpoint;
* resume checkpoints hold no random-number states: a resumed run re-seeds from the config seed,
  so its data augmentation and dropout differ from the run that was killed.

:class:`CrashSafeCheckpointHook` writes every checkpoint (and ``last_checkpoint``) to a
temporary file, flushes it and renames it into place, and deletes outdated files only after
the new one is complete. It stores the Python, NumPy, torch (and CUDA) RNG states as of the end
of the last training iteration, and restores them on resume. It stores the message hub's logs as
plain arrays, so that its checkpoints load weights-only. It also restores them after each
validation, so evaluating never shifts the training's random stream: a run killed with SIGKILL
and resumed ends with the same weights as the run that was not interrupted (same machine,
``randomness=dict(seed=..., deterministic=True)``). Iteration-based loops replay the skipped
batches (mmengine's ``Advance dataloader`` step) under a saved RNG state, so loading them does
not consume the resumed run's random numbers either.
"""

import os
import os.path as osp
import random
from contextlib import contextmanager

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer
from mmengine.runner import IterBasedTrainLoop

from mmtokenmix.checkpoints.files import (
    TMP_SUFFIX,
    atomic_write_text,
    is_own_temporary_file,
    replace_atomically,
)
from mmtokenmix.registry import HOOKS

RNG_KEY = 'mmtokenmix_rng_state'


def get_rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _as_python_state(state):
    """``random.setstate`` wants tuples; a checkpoint round trip may give lists."""
    return tuple(_as_python_state(s) for s in state) if isinstance(state, (list, tuple)) else state


def _plain_message_hub(state: dict) -> dict:
    """The message hub's state with each ``HistoryBuffer`` as a plain dict of arrays: pickled
    as objects, they also pickle references to their methods, which weights-only loading
    rightly refuses."""
    scalars = {
        key: dict(
            log_history=buffer._log_history,
            count_history=buffer._count_history,
            max_length=buffer.max_length,
        )
        for key, buffer in state.get('log_scalars', {}).items()
    }
    return dict(state, log_scalars=scalars)


def _message_hub_with_buffers(state: dict) -> dict:
    scalars = {
        key: HistoryBuffer(**value) if isinstance(value, dict) else value
        for key, value in state.get('log_scalars', {}).items()
    }
    return dict(state, log_scalars=scalars)


class _ReplayingIterator:
    """Wraps an iteration-based loop's data iterator for a resumed run: the first ``skip``
    batches (which mmengine fetches and discards) are loaded with the RNG states saved and
    restored around them; then ``rng_state`` is set before the first real batch, exactly as
    the uninterrupted run had it."""

    def __init__(self, iterator, skip: int, rng_state: dict):
        self.iterator, self.skip, self.rng_state = iterator, skip, rng_state

    def __iter__(self):
        return self

    def __next__(self):
        if self.skip > 0:
            self.skip -= 1
            state = get_rng_state()
            try:
                return next(self.iterator)
            finally:
                set_rng_state(state)
        if self.rng_state is not None:
            set_rng_state(self.rng_state)
            self.rng_state = None
        return next(self.iterator)

    def __getattr__(self, name):
        return getattr(self.iterator, name)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments) with atomic, delete-after-write saves and
    exact resume (RNG states in the checkpoint); see the module docstring."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._train_rng_state = None  # as of the end of the last training iteration
        self._resumed_rng_state = None

    # ---- random-number states -------------------------------------------------------------
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._train_rng_state = get_rng_state()  # this hook runs last (priority VERY_LOW)
        super().after_train_iter(runner, batch_idx, data_batch, outputs)

    def after_val_epoch(self, runner, metrics=None):
        super().after_val_epoch(runner, metrics)
        if self._train_rng_state is not None:  # validation must not shift training randomness
            set_rng_state(self._train_rng_state)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._train_rng_state is not None:
            checkpoint[RNG_KEY] = self._train_rng_state
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = _plain_message_hub(checkpoint['message_hub'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:  # runs before mmengine reads it
            checkpoint['message_hub'] = _message_hub_with_buffers(checkpoint['message_hub'])
        state = checkpoint.get(RNG_KEY)
        if state is not None:
            state['python'] = _as_python_state(state['python'])
            self._resumed_rng_state = self._train_rng_state = state

    def _restore_resumed_rng_state(self, runner) -> None:
        state, self._resumed_rng_state = self._resumed_rng_state, None
        if state is None:
            return
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop) and loop.iter > 0:
            loop.dataloader_iterator = _ReplayingIterator(
                loop.dataloader_iterator, loop.iter, state
            )
        else:
            set_rng_state(state)

    # ---- atomic saves ----------------------------------------------------------------------
    def _local(self) -> bool:
        """Checkpoints go to a local folder (set in ``before_train``; other backends keep
        mmengine's behaviour)."""
        return getattr(self, '_out_dir_is_local', False)

    @contextmanager
    def _atomic_runner_saves(self, runner):
        """While active, ``runner.save_checkpoint(out_dir, name, ...)`` writes
        ``.name.mmtokenmix.tmp`` and renames it to ``name`` once complete; a failed write
        (a full disk) removes its temporary file. Re-entrant: mmengine's best-checkpoint save
        calls the regular save again."""
        if not self._local() or 'save_checkpoint' in vars(runner):
            yield
            return
        save = runner.save_checkpoint

        def save_then_rename(out_dir, filename, *args, **kwargs):
            tmp = osp.join(out_dir, f'.{filename}{TMP_SUFFIX}')
            try:
                save(out_dir, osp.basename(tmp), *args, **kwargs)
                if is_main_process():
                    replace_atomically(tmp, osp.join(out_dir, filename))
            except BaseException:
                if is_main_process() and osp.isfile(tmp):
                    os.remove(tmp)
                raise

        runner.save_checkpoint = save_then_rename
        try:
            yield
        finally:
            del runner.save_checkpoint  # back to the class's method

    @contextmanager
    def _removals_after_save(self, keep):
        """Hold back the file deletions mmengine makes before saving; do them afterwards,
        except for the paths ``keep()`` returns (the files just written)."""
        backend, removed = self.file_backend, []

        class Deferring:
            def __getattr__(self, name):
                return getattr(backend, name)

            def remove(self, path):
                removed.append(path)

            rmtree = remove

        self.file_backend = Deferring()
        try:
            yield
        finally:
            self.file_backend = backend
        kept = set(keep())
        for path in removed:
            if path in kept:
                continue
            if osp.isdir(path):
                backend.rmtree(path)
            elif osp.isfile(path):
                backend.remove(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """As mmengine's, but: save atomically, write ``last_checkpoint`` atomically, and only
        then delete the checkpoints beyond ``max_keep_ckpts``."""
        if not self._local():
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        with self._atomic_runner_saves(runner):
            runner.save_checkpoint(
                self.out_dir,
                filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args,
            )
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed saves folders
                self.file_backend.rmtree(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self._local():
            return super()._save_best_checkpoint(runner, metrics)

        def best_paths():
            return [
                getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values(),
            ]

        with self._removals_after_save(best_paths), self._atomic_runner_saves(runner):
            super()._save_best_checkpoint(runner, metrics)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._out_dir_is_local = type(self.file_backend).__name__ == 'LocalBackend'
        if is_main_process() and self._local():
            # temporary files of ours that a killed save left (only ours: never a user's file)
            for folder in {self.out_dir, runner.work_dir}:
                if osp.isdir(folder):
                    for name in os.listdir(folder):
                        if is_own_temporary_file(name):
                            os.remove(osp.join(folder, name))
        self._restore_resumed_rng_state(runner)
