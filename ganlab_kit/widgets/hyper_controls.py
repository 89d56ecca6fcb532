"""Controls built from any run's hyperparameter dataclass.

Each field of the dataclass says how to show itself through
:func:`~ganlab_kit.train.run.hyper_field` metadata, so a lab builds its controls without
knowing the model:

==========================  =========================================
field                       control
==========================  =========================================
``choices=(...)``           dropdown
``log=True``                log-scale slider (learning rates), ``low``..``high``
``bool``                    checkbox
``int``                     integer box
``float``                   number box (weights such as ``cycle_weight``)
``tuple`` (``betas``)       text box of comma-separated numbers
``live=False``              the same, read-only (fixed for the run)
==========================  =========================================

A change goes through ``run.set_hyper(name=value)``, which validates it now and applies
it at the next step; a value it refuses is put back at the control and the reason goes
to the transport bar (:func:`~ganlab_kit.widgets.controls.bind_value`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..train.run import hyper_spec
from .controls import TransportBar, bind_value

_STYLE = {"description_width": "initial"}


def _parse_tuple(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in str(text).replace("(", "").replace(")", "").split(",") if part.strip())
    except ValueError:
        raise ValueError(f"write numbers separated by commas, e.g. 0.5, 0.999; got {text!r}") from None


def _format_tuple(values: tuple) -> str:
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


def control_for(
    spec: dataclasses.Field, value: Any
) -> tuple[widgets.ValueWidget, Callable[[Any], Any], Callable[[Any], Any]]:
    """The widget for one field, with ``(to_value, to_widget)`` converters."""
    meta = spec.metadata
    name, tip = spec.name, meta.get("help", "") or spec.name
    identity = lambda v: v
    if meta.get("choices") is not None:
        widget = widgets.Dropdown(
            options=list(meta["choices"]), value=value, description=name, tooltip=tip, style=_STYLE
        )
        return widget, identity, identity
    if isinstance(value, bool):
        return widgets.Checkbox(value=value, description=name, tooltip=tip, indent=False), bool, identity
    if meta.get("log") and isinstance(value, (int, float)) and value > 0:
        low = meta.get("low") or value / 100
        high = meta.get("high") or value * 100
        low, high = max(low, 1e-12), max(high, low * 10)
        widget = widgets.FloatLogSlider(
            value=value,
            base=10,
            min=math.log10(low),
            max=math.log10(high),
            step=0.05,
            description=name,
            readout_format=".1e",
            tooltip=tip,
            style=_STYLE,
        )
        return widget, float, identity
    if isinstance(value, int):
        return widgets.IntText(value=value, description=name, tooltip=tip, style=_STYLE), int, identity
    if isinstance(value, float):
        return widgets.FloatText(value=value, description=name, tooltip=tip, style=_STYLE), float, identity
    if isinstance(value, tuple):
        widget = widgets.Text(
            value=_format_tuple(value), description=name, tooltip=tip, continuous_update=False, style=_STYLE
        )
        return widget, _parse_tuple, _format_tuple
    return (
        widgets.Text(value=str(value), description=name, tooltip=tip, continuous_update=False, style=_STYLE),
        str,
        str,
    )


class HyperControls:
    """One control per hyperparameter of a run (see the module docstring).

    ``get_run()`` returns the run in force (a lab's Reset replaces it); ``locked`` is a
    context-manager factory (``session.locked``) so a change never lands mid-step.
    """

    def __init__(self, get_run: Callable[[], Any], locked: Callable[[], Any], bar: TransportBar | None = None) -> None:
        self._get_run, self._locked, self.bar = get_run, locked, bar
        self._syncing = False
        self.controls: dict[str, widgets.ValueWidget] = {}
        self._to_widget: dict[str, Callable[[Any], Any]] = {}
        hyper = get_run().hyper
        for spec in hyper_spec(hyper):
            widget, to_value, to_widget = control_for(spec, getattr(hyper, spec.name))
            self.controls[spec.name], self._to_widget[spec.name] = widget, to_widget
            if not spec.metadata.get("live", True):
                widget.disabled = True
                widget.tooltip = f"{widget.tooltip} (fixed for this run)"
                continue
            bind_value(widget, self._applier(spec.name, to_value), None, bar)
        self.widget = widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

    def _applier(self, name: str, to_value: Callable[[Any], Any]) -> Callable[[Any], None]:
        def apply(value: Any) -> None:
            if self._syncing:
                return
            converted = to_value(value)
            with self._locked():  # waits for the step in flight: the change applies to the next one
                self._get_run().set_hyper(**{name: converted})
            if self.bar is not None:
                self.bar.say(f"{name} = {converted!r} (from the next step)")

        return apply

    def values(self) -> dict[str, Any]:
        """What the live controls ask for, as hyperparameter values."""
        hyper = self._get_run().next_hyper if hasattr(self._get_run(), "next_hyper") else self._get_run().hyper
        out = {}
        for name, widget in self.controls.items():
            if widget.disabled:
                continue
            out[name] = _parse_tuple(widget.value) if isinstance(getattr(hyper, name), tuple) else widget.value
        return out

    def sync(self, hyper: Any) -> None:
        """Show ``hyper``'s values without applying them (after a reset)."""
        self._syncing = True
        try:
            for name, widget in self.controls.items():
                value = self._to_widget[name](getattr(hyper, name))
                if widget.value != value:
                    widget.value = value
        finally:
            self._syncing = False

    def reapply(self) -> None:
        """Give a fresh run (after Reset) the values the controls show; if it refuses
        them, the controls show the run's own values instead."""
        run = self._get_run()
        wanted = self.values()
        changes = {k: v for k, v in wanted.items() if getattr(run.hyper, k) != v}
        try:
            if changes:
                run.set_hyper(**changes)
        except (ValueError, TypeError) as exc:
            if self.bar is not None:
                self.bar.say(f"the new run keeps its own settings: {exc}", level="warning")
        self.sync(run.next_hyper if hasattr(run, "next_hyper") else run.hyper)
