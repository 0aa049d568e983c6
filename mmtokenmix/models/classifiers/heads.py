"""Classification heads of the papers that are not one of torch's modules."""

import torch
import torch.nn as nn

from ..layers import SquaredReLU


class MlpHead(nn.Module):
    """MetaFormer's classification head: ``fc1`` (C -> 4C) -> SquaredReLU -> LayerNorm ->
    dropout -> ``fc2`` (4C -> classes), with biases."""

    def __init__(
        self, channels: int, num_classes: int, mlp_ratio: float = 4.0, head_dropout: float = 0.0
    ):
        super().__init__()
        hidden = int(mlp_ratio * channels)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden)
        self.head_dropout = nn.Dropout(head_dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.head_dropout(self.norm(self.act(self.fc1(x)))))


class LinearHead(nn.Module):
    """Dropout -> ``fc`` (mmpretrain's ``LinearClsHead`` key layout ``head.fc.*``)."""

    def __init__(self, channels: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x))
