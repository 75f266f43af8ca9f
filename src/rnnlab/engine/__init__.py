"""Every deviation from plain Keras that exists for speed, behind one switch: `--engine`.

- `keras`: the tutorial's own Keras layers and `fit`, nothing else.  The
  cross-machine reference: its results depend only on Keras, JAX and the data.
- `xla`: Keras' layers and `fit` with rnnlab's speed paths (engine/xla.py):
  several batches per compiled call, validation in large batches, and a
  SimpleRNN with its input projection outside the time loop.  The same
  results as `keras` on the machine that runs them (tests/test_engine.py).
- `fused`: the `xla` engine's fit, with recurrent layers whose whole sequence
  is one numba kernel call forward and one backward (engine/fused/): Keras'
  numbers to float32 rounding, not bit for bit.
- `auto` (the default): `fused` where its kernels can run, else `xla` (said in
  one line); `keras` on another Keras backend.  The fastest engine that is
  correct on the machine (docs/performance.md).

Every engine builds the same models with the same weights; run folders always
hold models that load without the engine.  What each path is worth is
measured by bench/engine_paths.py, not written here.  Start-up savings that
apply to every engine are in engine/startup.py.
"""

import importlib
from dataclasses import dataclass

from ..errors import RnnlabError
from . import compat


@dataclass(frozen=True)
class Engine:
    name: str
    description: str  # for --help
    layers: str  # the module whose layer classes the model builders use
    steps_per_execution: int = 1  # batches per call of the training function
    fuse_steps: bool = False  # run those batches in one compiled call (xla.fuse_train_steps)
    eval_batch_size: int | None = None  # validation and test batches; None: as the tutorial

    def layer_namespace(self):
        return importlib.import_module(self.layers)

    def compile_options(self) -> dict:
        return {"steps_per_execution": self.steps_per_execution}

    def prepare(self, model):
        """Install the engine's training function on a compiled model."""
        if self.fuse_steps:
            from .xla import fuse_train_steps

            fuse_train_steps(model)
        return model

    def validation_batch_size(self, model, batch_size: int) -> int:
        """The engine's evaluation batch, or the training batch for a model with RNN dropout.

        Keras' recurrent layers draw their dropout mask at every call, inference
        included, and so advance their seed once per validation batch: the
        number of validation batches decides the masks of the next epoch.
        Validating such models in training-size batches keeps their results.
        """
        if self.eval_batch_size is None or draws_dropout_masks(model):
            return batch_size
        return self.eval_batch_size


ENGINES = {
    "keras": Engine(
        "keras", "Keras' layers and fit only, the cross-machine reference", "rnnlab.layers"
    ),
    "xla": Engine(
        "xla",
        "Keras with rnnlab's speed paths, the same results on this machine",
        "rnnlab.engine.xla",
        steps_per_execution=32,
        fuse_steps=True,
        eval_batch_size=1024,
    ),
    "fused": Engine(
        "fused",
        "recurrent layers as fused numba kernels, Keras' numbers to float32 rounding",
        "rnnlab.engine.fused.layers",
        steps_per_execution=32,
        fuse_steps=True,
        eval_batch_size=1024,
    ),
}
AUTO = "auto"  # fused where its kernels can run, else xla (keras off JAX)
CHOICES = (*ENGINES, AUTO)
DEFAULT = AUTO


def get_engine(name: str) -> Engine:
    """The engine called `name`; `auto` resolved (saying so in one line when it falls back)."""
    import sys

    import keras

    if name not in CHOICES:
        raise RnnlabError(f"unknown engine {name!r}; choose one of: {', '.join(CHOICES)}")
    if name != "keras" and keras.backend.backend() != "jax":
        if name == AUTO:
            return ENGINES["keras"]
        raise RnnlabError(
            f"the {name} engine needs Keras' JAX backend, and KERAS_BACKEND is "
            f"{keras.backend.backend()}: unset it, or pass --engine keras"
        )
    untested = compat.untested("fused" if name == AUTO else name)  # internals: engine/compat.py
    if untested:
        print(f"rnnlab: {untested}; using the keras engine", file=sys.stderr)
        return ENGINES["keras"]
    if name in ("fused", AUTO):
        from .fused import available

        runs, why = available()
        if not runs and name == "fused":
            raise RnnlabError(f"the fused engine cannot run here: {why}; use --engine keras")
        if not runs:
            print(f"rnnlab: the fused engine cannot run here ({why}); using xla", file=sys.stderr)
            return ENGINES["xla"]
        return ENGINES["fused"]
    return ENGINES[name]


def draws_dropout_masks(model) -> bool:
    import keras

    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            layers += [layer.forward_layer, layer.backward_layer]
        else:
            layers.append(layer)
    return any(
        getattr(layer, "dropout", 0) or getattr(layer, "recurrent_dropout", 0)
        for layer in layers
        if isinstance(layer, keras.layers.RNN)
    )
