"""A fast line chart of metric histories (losses, D(x), D(G(z)), ...) for live labs.

Drawing with matplotlib 15 times a second would take the GIL from training for most
of each second. This chart sends only numbers: the Python side keeps the history in
NumPy arrays, bins it down to at most ``max_points`` points per line (mean per bin), and
ships one ``float32`` byte buffer; an HTML canvas in the browser draws the lines.

API::

    chart = LineChart(["loss_d", "loss_g"], title="losses")
    chart.update(session.history)   # incremental: only new steps are read (cheap)
    chart.widget                     # display it (an anywidget)
    chart.figure()                   # matplotlib snapshot of the same data (no front end)
    chart.clear()                    # forget everything (after a reset)

``update`` notices on its own when the history was cleared (a reset), and starts over.
"""

from __future__ import annotations

import anywidget
import numpy as np
import traitlets

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")

_CHART_ESM = r"""
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "ganlab-chart";
  const title = document.createElement("div");
  title.style.font = "12px sans-serif";
  const canvas = document.createElement("canvas");
  box.append(title, canvas);
  el.append(box);
  function draw() {
    const w = model.get("width"), h = model.get("height");
    const ratio = window.devicePixelRatio || 1;
    canvas.width = w * ratio; canvas.height = h * ratio;
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const names = model.get("names"), colors = model.get("colors");
    const n = model.get("length");
    const raw = model.get("data");
    title.innerHTML = "<b>" + model.get("title") + "</b> " + names.map(
      (s, i) => `<span style="color:${colors[i % colors.length]}">&#9644; ${s}</span>`).join(" ");
    if (!raw || n < 1) return;
    // bytes arrive as a DataView (or ArrayBuffer); copy to get an aligned Float32Array.
    const buf = raw.buffer ? raw.buffer : raw, off = raw.byteOffset || 0;
    const v = new Float32Array(buf.slice(off, off + 4 * n * (names.length + 1)));
    let lo = Infinity, hi = -Infinity;
    for (let i = n; i < v.length; i++) {
      const y = v[i];
      if (isFinite(y)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    }
    if (!isFinite(lo)) return;
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const x0 = v[0], x1 = Math.max(v[n - 1], x0 + 1);
    const L = 44, R = 6, T = 6, B = 16;
    const px = (x) => L + (x - x0) / (x1 - x0) * (w - L - R);
    const py = (y) => T + (hi - y) / (hi - lo) * (h - T - B);
    ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1; ctx.strokeRect(L, T, w - L - R, h - T - B);
    ctx.fillStyle = "#555"; ctx.font = "10px sans-serif";
    ctx.fillText(hi.toPrecision(3), 2, T + 8); ctx.fillText(lo.toPrecision(3), 2, h - B);
    ctx.fillText("step " + Math.round(x1), w - 70, h - 3);
    for (let s = 0; s < names.length; s++) {
      ctx.strokeStyle = colors[s % colors.length]; ctx.lineWidth = 1.5; ctx.beginPath();
      let pen = false;
      for (let i = 0; i < n; i++) {
        const y = v[(s + 1) * n + i];
        if (!isFinite(y)) { pen = false; continue; }
        if (pen) ctx.lineTo(px(v[i]), py(y)); else ctx.moveTo(px(v[i]), py(y));
        pen = true;
      }
      ctx.stroke();
    }
  }
  model.on("change:data", draw);
  model.on("change:title", draw);
  draw();
}
export default { render };
"""


class LineChartWidget(anywidget.AnyWidget):
    """The browser half: draws ``length`` points of x then each series from ``data``."""

    _esm = _CHART_ESM
    title = traitlets.Unicode("").tag(sync=True)
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    colors = traitlets.List(traitlets.Unicode()).tag(sync=True)
    data = traitlets.Bytes(b"").tag(sync=True)  # float32: x[length], then series[k][length]
    length = traitlets.Int(0).tag(sync=True)
    width = traitlets.Int(420).tag(sync=True)
    height = traitlets.Int(150).tag(sync=True)


class LineChart:
    """Live chart of some keys of a metrics history (see the module docstring)."""

    def __init__(self, keys, *, title: str = "", max_points: int = 400, width: int = 420, height: int = 150) -> None:
        self.keys = list(keys)
        if not self.keys:
            raise ValueError("LineChart needs at least one metric key to draw")
        self.title = title
        self.max_points = int(max_points)
        self.widget = LineChartWidget(title=title, names=self.keys, colors=list(PALETTE), width=width, height=height)
        self.clear()

    def clear(self) -> None:
        self._steps = np.zeros(0, dtype=np.float64)
        self._values = np.zeros((len(self.keys), 0), dtype=np.float64)
        self._last_step = -np.inf

    def _new_entries(self, history: list[dict]) -> list[dict]:
        if not history:
            if self._steps.size:
                self.clear()
            return []
        if float(history[-1].get("step", 0)) < self._last_step:  # history was reset
            self.clear()
        start = len(history)
        while start > 0 and float(history[start - 1].get("step", 0)) > self._last_step:
            start -= 1
        return history[start:]

    @property
    def empty(self) -> bool:
        """True while the chart has no line to draw: fewer than two points (before training)."""
        return self._steps.size < 2

    def update(self, history: list[dict]) -> None:
        """Append the steps not seen yet and send a binned copy to the browser."""
        fresh = self._new_entries(list(history[-20000:]) if len(history) > 20000 else history)
        if fresh:
            steps = np.array([float(m.get("step", 0)) for m in fresh])
            values = np.array([[float(m.get(k, np.nan)) for m in fresh] for k in self.keys])
            self._steps = np.concatenate([self._steps, steps])
            self._values = np.concatenate([self._values, values], axis=1)
            self._last_step = float(steps[-1])
        x, y = self.binned()
        payload = np.concatenate([x[None, :], y], axis=0).astype(np.float32)
        with self.widget.hold_sync():
            self.widget.length = int(x.size)
            self.widget.data = payload.tobytes()

    def binned(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, values) reduced to at most ``max_points`` columns by averaging bins."""
        n = self._steps.size
        if n <= self.max_points:
            return self._steps.copy(), self._values.copy()
        edges = np.linspace(0, n, self.max_points + 1).astype(int)
        counts = np.diff(edges)
        x = np.add.reduceat(self._steps, edges[:-1]) / counts
        # nan-aware mean per bin: sum of finite values / number of finite values.
        finite = np.isfinite(self._values)
        sums = np.add.reduceat(np.where(finite, self._values, 0.0), edges[:-1], axis=1)
        hits = np.add.reduceat(finite.astype(float), edges[:-1], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(hits > 0, sums / np.maximum(hits, 1), np.nan)
        return x, y

    def figure(self, ax=None):
        """A matplotlib snapshot of the chart (for notebooks without a front end)."""
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(self.widget.width / 100, self.widget.height / 100 + 0.4))
        x, y = self.binned()
        for i, key in enumerate(self.keys):
            ax.plot(x, y[i], color=PALETTE[i % len(PALETTE)], label=key, lw=1.5)
        # Projector-readable: titles 12 pt, labels, ticks and legends 11 pt.
        ax.set_title(self.title, fontsize=12)
        ax.set_xlabel("step", fontsize=11)
        ax.tick_params(labelsize=11)
        ax.legend(fontsize=11, loc="best")
        return ax.figure
