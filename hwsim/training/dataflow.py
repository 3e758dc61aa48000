"""The data a training step moves, issued from the network walk (one place for all
algorithms, the recorded runs and the symbolic trace generator).

Per mini-batch of ``B`` samples, analog layer ``ℓ`` (``M`` outputs, ``N`` inputs, ``P``
vectors per sample, ``V = B·P`` vectors) and words of ``w = 2`` bytes (the 16-bit
datapath of the digital unit and accumulator), the step keeps these tensors:

* ``in``   — the batch input, held as the first layer's patch matrix: ``V₀·N₀·w`` B;
* ``act ℓ`` — layer ℓ's output feature map (after its digital post-processing):
  ``V·M·w`` B; the next layer's input;
* ``err ℓ`` — the error at layer ℓ's output: ``V·M·w`` B (the loss gradient for the
  last layer, else written by the transposed MVM of layer ℓ+1, after the digital
  col2im / unpooling).

and issues, as ``move`` ops (:mod:`hwsim.core.ops`; the machine places them,
:func:`hwsim.sim.hardware.move_specs`)::

    forward ℓ:   read  V·N·w  of its input (im2col: every patch re-read, k² per pixel;
                 a conv read also carries window and unique, see "Line buffer")
                 write V·M·w  act ℓ
    loss:        write B·P_L·M_L·w  err L
    backward ℓ:  read  V·M·w  err ℓ;  with a transposed MVM also write err ℓ−1
    update:      per layer, read V·N·w of its input again and V·M·w of err ℓ
                 (the pulsed / digital update needs x and d of every sample)

**Placement policy.**  Every tensor of the step is live until the update at its end (it
re-reads every layer's input and error), so the step's working set is their sum.  They
are laid out in the order the walk produces them — ``in``, ``act 1 … L``, ``err L … 1``
— each at the offset where the previous ones end; the buffer holds the first
``capacity`` bytes of that layout and the rest spills to DRAM (what was produced first
stays on chip, per layer and batch).  The ops carry the offset and the tensor's size,
not the split, so a trace replays on any buffer size.

**Line buffer (im2col).**  A conv layer with a ``k_h × k_w`` kernel over a ``C × H × W``
input map reads ``V·N·w = B·H_out·W_out·C·k_h·k_w·w`` patch bytes (forward, and again
for the update), but a sliding window needs only ``k_h − 1`` rows of the map besides
the incoming one.  Its patch reads therefore also carry ``window = (k_h − 1)·W·C·w``
and ``unique = B·C·H·W·w`` (the map itself).  Policy (applied by the replaying machine,
:func:`hwsim.sim.hardware.move_specs`): **when the accelerator has a line buffer of at
least ``window`` bytes**, the map's ``unique`` bytes are read once from the buffer/DRAM
(placed as above) and written into the line buffer, and the ``n`` patch bytes are read
from the line buffer; **otherwise** (no line buffer, the window does not fit, or a
linear layer) all ``n`` bytes are re-read from the buffer/DRAM.  The geometry comes
from the conv layers themselves (``in_shape`` and ``kh`` of
:class:`~hwsim.training.layers_conv.Conv2d`) or, in a generated trace, from the
``input`` [C, H, W] and ``kernel`` [k_h, k_w] keys of the layer's shape; a layer
without them (older traces, linear layers) issues the reads as before.
"""
from __future__ import annotations

#: bytes per stored word (16-bit activations and errors)
WORD_BYTES = 2


def conv_geometry(layer) -> dict:
    """``{"input": [C, H, W], "kernel": [k_h, k_w]}`` of a conv layer (a
    :class:`~hwsim.training.layers_conv.Conv2d` or a shape carrying those keys), else
    ``{}``."""
    if getattr(layer, "kind", None) != "conv":
        return {}
    if hasattr(layer, "in_shape") and hasattr(layer, "kh"):
        return {"input": [int(v) for v in layer.in_shape],
                "kernel": [int(layer.kh), int(layer.kw)]}
    conv = getattr(layer, "conv", None) or {}
    return {k: [int(v) for v in conv[k]] for k in ("input", "kernel") if k in conv} \
        if "input" in conv and "kernel" in conv else {}


class StepMoves:
    """The ``move`` ops of one mini-batch of ``batch`` samples over ``layers`` (objects
    with ``name``, ``out_features``, ``in_features`` and ``vectors_per_sample``)."""

    def __init__(self, layers, batch: int, word_bytes: int = WORD_BYTES):
        self.layers = list(layers)
        self.batch, self.w = int(batch), int(word_bytes)
        self.extent: dict = {}          # tensor -> bytes
        self.offset: dict = {}          # tensor -> bytes placed before it
        order = [("in", self._v(0) * self.layers[0].in_features * self.w)] if self.layers else []
        order += [(("act", i), self._v(i) * lay.out_features * self.w)
                  for i, lay in enumerate(self.layers)]
        order += [(("err", i), self._v(i) * lay.out_features * self.w)
                  for i, lay in reversed(list(enumerate(self.layers)))]
        at = 0
        for tensor, size in order:
            self.offset[tensor], self.extent[tensor] = at, size
            at += size
        self.working_set = at
        #: layer -> (window, unique) bytes of its line-bufferable patch reads
        self.window: dict = {}
        for i, lay in enumerate(self.layers):
            g = conv_geometry(lay)
            if g:
                (c, h, w), (kh, kw) = g["input"], g["kernel"]
                if c * kh * kw != lay.in_features:
                    raise ValueError(f"layer '{lay.name}': input {g['input']} and kernel "
                                     f"{g['kernel']} give {c * kh * kw} patch inputs, but "
                                     f"in_features is {lay.in_features}")
                self.window[i] = ((kh - 1) * w * c * self.w, self.batch * c * h * w * self.w)

    def _v(self, i: int) -> int:
        return self.batch * self.layers[i].vectors_per_sample

    def _input_of(self, i: int):
        return "in" if i == 0 else ("act", i - 1)

    def _move(self, hw, tensor, nbytes, access, layer, phase, what, **line) -> None:
        hw.op("move", nbytes, layer=layer, role="-", phase=phase, access=access,
              offset=self.offset[tensor], extent=self.extent[tensor], what=what, **line)

    def _patches(self, hw, i: int, phase: str) -> None:
        """Layer ``i`` reads its input patches (``V·N·w``); a conv layer's read also
        carries its line-buffer ``window`` and ``unique`` bytes (module docstring)."""
        lay = self.layers[i]
        line = {}
        if i in self.window and self.window[i][0] > 0:
            line = dict(zip(("window", "unique"), self.window[i]))
        self._move(hw, self._input_of(i), self._v(i) * lay.in_features * self.w, "read",
                   lay.name, phase, "patches", **line)

    # -- the walk's hooks -------------------------------------------------------------------
    def forward_in(self, hw, i: int) -> None:
        """Before layer ``i``'s MVM: read its input patches (``V·N·w``)."""
        self._patches(hw, i, "forward")

    def forward_out(self, hw, i: int) -> None:
        """After layer ``i``'s digital post-processing: write its output map."""
        lay = self.layers[i]
        self._move(hw, ("act", i), self.extent[("act", i)], "write", lay.name, "forward",
                   "activation")

    def loss(self, hw) -> None:
        """The loss gradient: write the last layer's error."""
        i = len(self.layers) - 1
        self._move(hw, ("err", i), self.extent[("err", i)], "write", self.layers[i].name,
                   "backward", "error")

    def backward_in(self, hw, i: int) -> None:
        """Before layer ``i``'s transposed MVM: read its error."""
        self._move(hw, ("err", i), self.extent[("err", i)], "read", self.layers[i].name,
                   "backward", "error")

    def backward_out(self, hw, i: int) -> None:
        """After layer ``i``'s transposed MVM: write the error of layer ``i − 1``."""
        if i > 0:
            self._move(hw, ("err", i - 1), self.extent[("err", i - 1)], "write",
                       self.layers[i].name, "backward", "error")

    def update(self, hw) -> None:
        """Before the algorithm's update: every layer re-reads its input and error."""
        for i, lay in enumerate(self.layers):
            self._patches(hw, i, "update")
            self._move(hw, ("err", i), self.extent[("err", i)], "read", lay.name, "update",
                       "error")
