"""Official checkpoint formats -> mmtokenmix checkpoints, one module per family
(``tools/model_converters/*2mmtokenmix.py`` are their command lines). Converters validate against
the models, so this package imports both :mod:`mmtokenmix.models` and
:mod:`mmtokenmix.checkpoints`; neither of those imports it (no import cycle)."""
