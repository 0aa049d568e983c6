"""Hostile checkpoint files for the safe-loading tests: each writes ``marker`` if anything
loads it the unsafe way."""

from typing import Tuple

import torch


class PicklePayload:
    """Unpickling this writes ``marker``: what a malicious pickle checkpoint does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").write("code from the file ran")',)


def pickle_payload(path, marker, state_dict=None) -> str:
    """A torch.save checkpoint whose pickle runs code (``builtins.exec``)."""
    state_dict = state_dict if state_dict is not None else {'w': torch.zeros(2)}
    torch.save({'state_dict': state_dict, 'meta': {'note': PicklePayload(marker)}}, path)
    return str(path)


class MarkerModule(torch.nn.Module):
    """Scripted and saved, its ``__setstate__`` -- which ``torch.jit.load`` runs -- creates the
    file ``marker`` (``torch.from_file(..., shared=True)`` opens it with O_CREAT)."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker

    def forward(self, x):
        return x

    @torch.jit.export
    def __getstate__(self) -> Tuple[str, bool]:
        return (self.marker, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[str, bool]) -> None:
        self.training = state[1]
        self.marker = state[0] + str(torch.from_file(state[0], True, 8).numel())


def torchscript_payload(path, marker) -> str:
    """A TorchScript archive (torch.jit.save) that creates ``marker`` when loaded. torch < 2.6
    hands such a file to torch.jit.load even under ``torch.load(weights_only=True)``."""
    torch.jit.save(torch.jit.script(MarkerModule(str(marker))), str(path))
    return str(path)


PAYLOADS = {'pickle': pickle_payload, 'torchscript': torchscript_payload}
