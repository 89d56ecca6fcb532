"""A transport bar for a :class:`~ganlab_kit.train.session.TrainingSession`, and safe value binding.

The bar is the row of buttons every lab shares::

    [Play] [Step] [Reset] [Slow motion]   step 1200 · 240 steps/s
    <message / alarm area>

API::

    bar = TransportBar(session, on_reset=lab.reset)     # on_reset: optional callable
    bar.widget                                           # the ipywidgets box to display
    bar.add_button("Step D", lambda: ...)                # extra actions (lab-specific)
    other_button.on_click(bar.handler(action))           # any widget: errors -> message area
    bar.update()                                         # sync labels with the session;
                                                         # call it from a ViewRefresher's draw
    bar.say("text", level="info" | "warning" | "error")  # write to the message area
    bind_value(widget, apply, check, bar)                # refuse bad values at the control

Stable names for tests and browser automation: the play button's description is
``"Play"`` while paused and ``"Pause"`` while training; the counter label's text
starts with ``"step N"``.

Why the care: a click handler runs in the kernel's main thread while training runs in
the session's thread. Every handler here is wrapped so that an exception becomes a
message in the bar instead of a traceback lost in a log; a bad value (say a negative
learning rate) is refused *here*, before it can reach the training thread; and play is
idempotent in the session, so clicking Play ten times fast still leaves one trainer.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

_COLORS = {"info": "#333", "warning": "#b35900", "error": "#b00020"}


class TransportBar:
    """Play/pause, step, reset and slow motion for one session, with a status line."""

    def __init__(
        self,
        session,
        *,
        on_reset: Callable[[], Any] | None = None,
        slow_delay: float = 0.15,
        steps_per_click: int = 1,
    ) -> None:
        self.session = session
        self.on_reset = on_reset
        self.slow_delay = float(slow_delay)
        self.steps_per_click = int(steps_per_click)
        self.play_button = widgets.Button(description="Play", icon="play", tooltip="start / pause training")
        self.step_button = widgets.Button(description="Step", icon="step-forward", tooltip="one training step")
        self.reset_button = widgets.Button(description="Reset", icon="undo", tooltip="new networks, step 0")
        self.reset_button.disabled = on_reset is None
        self.slow_motion = widgets.ToggleButton(description="Slow motion", icon="hourglass-half", value=False)
        # Wide enough for "step 123456" / "1234 steps/s": labels must not be clipped.
        self.counter = widgets.Label(value="step 0", layout=widgets.Layout(min_width="7.5em"))
        self.speed = widgets.Label(value="", layout=widgets.Layout(min_width="7.5em"))
        self.message = widgets.HTML(value="")
        self.counter.add_class("ganlab-step-counter")
        self.play_button.add_class("ganlab-play")
        self._row = widgets.HBox(
            [self.play_button, self.step_button, self.reset_button, self.slow_motion, self.counter, self.speed],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),  # narrow screens wrap, never clip
        )
        self.widget = widgets.VBox([self._row, self.message])
        self._last_message_source: str | None = None

        self.play_button.on_click(self._safe(self.toggle))
        self.step_button.on_click(self._safe(self.step))
        self.reset_button.on_click(self._safe(self.reset))
        self.slow_motion.observe(self._safe(self._on_slow_motion), names="value")

    # -------------------------------------------------------------- actions
    def handler(self, action: Callable[[], Any]) -> Callable[..., None]:
        """Wrap ``action`` (no arguments) for ``on_click`` / ``observe``: an exception becomes
        an error message in the bar, and the bar's labels are synced afterwards."""
        return self._safe(action)

    def _safe(self, action: Callable[..., Any]) -> Callable[..., None]:
        """Wrap a handler: exceptions become an error message, never a crash."""

        def handler(*_args) -> None:
            try:
                action()
            except Exception as exc:  # shown to the user, who can act on it
                self.say(f"{type(exc).__name__}: {exc}", level="error")
            self.update()

        return handler

    def toggle(self) -> None:
        if self.session.running:
            self.session.pause()
        else:
            self.say("")
            self.session.play()
            if not self.session.running and not self.session.alarm:  # never a silent no-op
                self.say("Play did not start training; see the message above or press Step.", level="warning")

    def step(self) -> None:
        self.session.step(self.steps_per_click)

    def reset(self) -> None:
        if self.on_reset is None:
            raise RuntimeError("this lab has no reset")
        self.session.pause()
        self.on_reset()
        self.say("reset: new networks, step 0")

    def _on_slow_motion(self) -> None:
        self.session.delay = self.slow_delay if self.slow_motion.value else 0.0

    def add_button(
        self, description: str, action: Callable[[], Any], *, tooltip: str = "", icon: str = ""
    ) -> widgets.Button:
        """Add a lab-specific button to the row (before the counter); returns it."""
        button = widgets.Button(description=description, tooltip=tooltip, icon=icon)
        button.on_click(self._safe(action))
        children = list(self._row.children)
        children.insert(children.index(self.counter), button)
        self._row.children = tuple(children)
        return button

    # -------------------------------------------------------------- display
    def say(self, text: str, level: str = "info") -> None:
        """Show ``text`` in the message area (empty text clears it)."""
        self._last_message_source = "user"
        if not text:
            self.message.value = ""
            return
        color = _COLORS.get(level, _COLORS["info"])
        self.message.value = f'<span style="color:{color}">{html.escape(text)}</span>'

    def update(self) -> None:
        """Sync button and labels with the session (cheap; safe from any thread)."""
        running = self.session.running
        description = "Pause" if running else "Play"
        if self.play_button.description != description:
            self.play_button.description = description
            self.play_button.icon = "pause" if running else "play"
        counter = f"step {self.session.step_count}"
        if self.counter.value != counter:
            self.counter.value = counter
        speed = f"{self.session.steps_per_second():.0f} steps/s" if running else ""
        if self.speed.value != speed:
            self.speed.value = speed
        alarm = self.session.alarm
        if alarm and self._last_message_source != alarm:
            self.say(alarm, level="warning")
            self._last_message_source = alarm
        # Why training paused by itself (a step target reached): said, never silent.
        notice = getattr(self.session, "notice", None)
        if not alarm and notice and self._last_message_source != notice:
            self.say(notice, level="info")
            self._last_message_source = notice


def bind_value(
    widget: widgets.ValueWidget,
    apply: Callable[[Any], Any],
    check: Callable[[Any], str | None] | None = None,
    bar: TransportBar | None = None,
) -> None:
    """Call ``apply(new_value)`` when ``widget.value`` changes, unless ``check`` refuses it.

    ``check(value)`` returns an error message for a bad value (or ``None``). A refused
    value is put back to the previous one and the message goes to ``bar`` (if given);
    the same happens when ``apply`` itself raises ``ValueError``/``TypeError``.
    """
    state = {"reverting": False}

    def on_change(change: dict) -> None:
        if state["reverting"]:
            return
        new, old = change["new"], change["old"]
        try:
            problem = check(new) if check is not None else None
            if problem is None:
                apply(new)
        except (ValueError, TypeError) as exc:
            problem = str(exc)
        if problem is None:
            return
        state["reverting"] = True
        try:
            widget.value = old
        finally:
            state["reverting"] = False
        if bar is not None:
            label = getattr(widget, "description", "") or "value"
            bar.say(f"{label}: {new!r} refused: {problem}", level="error")

    widget.observe(on_change, names="value")
