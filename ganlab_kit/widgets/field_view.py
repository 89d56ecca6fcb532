"""The 2-D lab's main view: the plane with its layers, drawn on an HTML canvas.

Layers (each toggleable, GAN Lab's colours: green = real, purple = fake):

* ``heatmap``  -- sigmoid(D(x)) over the plane (green where D says "real");
* ``manifold`` -- the generator's image of a noise grid, cells shaded by density;
* ``real`` / ``fake`` -- samples;
* ``arrows``   -- on each fake sample, the direction the generator's loss pushes it.

Python computes a :class:`FieldFrame` (NumPy arrays) and :meth:`FieldView.show` ships it
as compact bytes: the heatmap as ``uint8`` (one byte per cell), points as ``float32``.
The browser only paints. With ``drawing`` on, clicking or dragging on the canvas adds
points (plane coordinates) to :attr:`FieldView.drawn`; the lab turns them into data.
Without a front end, :meth:`FieldView.figure` paints the same frame with matplotlib.

The canvas widget carries the CSS class ``ganlab-field`` for browser tests.
"""

from __future__ import annotations

import anywidget
import numpy as np
import traitlets

from ..toy2d.data import PLANE
from ..toy2d.fields import FieldFrame

LAYERS = ("heatmap", "manifold", "real", "fake", "arrows")
REAL_COLOR, FAKE_COLOR, DRAWN_COLOR = "#1a9641", "#7b3294", "#e66101"

_FIELD_ESM = r"""
const LO = [194, 165, 207], MID = [247, 247, 247], HI = [166, 219, 160];
const LUT = new Uint8ClampedArray(256 * 3);
for (let i = 0; i < 256; i++) {
  const t = i / 255, a = t < 0.5 ? LO : MID, b = t < 0.5 ? MID : HI, u = t < 0.5 ? t * 2 : t * 2 - 1;
  for (let c = 0; c < 3; c++) LUT[i * 3 + c] = a[c] + (b[c] - a[c]) * u;
}
function view(raw, Type) {
  if (!raw) return new Type(0);
  const buf = raw.buffer ? raw.buffer : raw, off = raw.byteOffset || 0;
  return new Type(buf.slice(off, off + raw.byteLength));
}
function render({ model, el }) {
  const canvas = document.createElement("canvas");
  const heat = document.createElement("canvas");
  canvas.style.cursor = "default";
  el.append(canvas);
  let pending = [], down = false;
  function draw() {
    const S = model.get("size"), ratio = window.devicePixelRatio || 1;
    if (canvas.width !== S * ratio) {
      canvas.width = S * ratio; canvas.height = S * ratio;
      canvas.style.width = S + "px"; canvas.style.height = S + "px";
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const [lo, hi] = model.get("extent"), L = model.get("layers");
    const X = (x) => (x - lo) / (hi - lo) * S, Y = (y) => (hi - y) / (hi - lo) * S;
    ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, S, S);
    const R = model.get("heatmap_resolution"), h = view(model.get("heatmap"), Uint8Array);
    if (L.heatmap && h.length === R * R) {
      heat.width = R; heat.height = R;
      const hctx = heat.getContext("2d"), img = hctx.createImageData(R, R);
      for (let i = 0; i < R * R; i++) {
        const k = h[i] * 3;
        img.data[i * 4] = LUT[k]; img.data[i * 4 + 1] = LUT[k + 1]; img.data[i * 4 + 2] = LUT[k + 2];
        img.data[i * 4 + 3] = 255;
      }
      hctx.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = true; ctx.drawImage(heat, 0, 0, S, S);
    }
    const M = model.get("manifold_resolution"), m = view(model.get("manifold"), Float32Array);
    const d = view(model.get("manifold_density"), Uint8Array);
    if (L.manifold && m.length > 0) {
      if (model.get("manifold_dim") === 1) {
        for (let i = 0; i + 1 < M; i++) {
          ctx.strokeStyle = `rgba(123,50,148,${0.15 + 0.7 * d[i] / 255})`;
          ctx.lineWidth = 3; ctx.beginPath();
          ctx.moveTo(X(m[2 * i]), Y(m[2 * i + 1]));
          ctx.lineTo(X(m[2 * i + 2]), Y(m[2 * i + 3])); ctx.stroke();
        }
      } else {
        const P = (i, j) => [X(m[2 * (i * M + j)]), Y(m[2 * (i * M + j) + 1])];
        for (let i = 0; i + 1 < M; i++) for (let j = 0; j + 1 < M; j++) {
          const a = P(i, j), b = P(i, j + 1), c = P(i + 1, j + 1), e = P(i + 1, j);
          ctx.fillStyle = `rgba(123,50,148,${0.05 + 0.45 * d[i * (M - 1) + j] / 255})`;
          ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]);
          ctx.lineTo(c[0], c[1]); ctx.lineTo(e[0], e[1]); ctx.closePath(); ctx.fill();
        }
      }
    }
    const dots = (pts, color, r) => {
      ctx.fillStyle = color;
      for (let i = 0; i + 1 < pts.length; i += 2) {
        ctx.beginPath(); ctx.arc(X(pts[i]), Y(pts[i + 1]), r, 0, 6.2832); ctx.fill();
      }
    };
    if (L.real) dots(view(model.get("real"), Float32Array), "#1a9641", 2);
    const f = view(model.get("fake"), Float32Array);
    if (L.fake) dots(f, "#7b3294", 2);
    const a = view(model.get("arrows"), Float32Array);
    if (L.arrows && a.length === f.length) {
      ctx.strokeStyle = "rgba(60,60,60,0.8)"; ctx.lineWidth = 1; ctx.beginPath();
      for (let i = 0; i + 1 < a.length; i += 2) {
        ctx.moveTo(X(f[i]), Y(f[i + 1])); ctx.lineTo(X(f[i] + a[i]), Y(f[i + 1] + a[i + 1]));
      }
      ctx.stroke();
    }
    dots(view(model.get("drawn"), Float32Array), "#e66101", 3);
    for (const [x, y] of pending) {
      ctx.fillStyle = "#e66101"; ctx.beginPath(); ctx.arc(X(x), Y(y), 3, 0, 6.2832); ctx.fill();
    }
  }
  function planePoint(event) {
    const box = canvas.getBoundingClientRect(), [lo, hi] = model.get("extent");
    return [lo + (event.clientX - box.left) / box.width * (hi - lo),
            hi - (event.clientY - box.top) / box.height * (hi - lo)];
  }
  function add(event) {
    const p = planePoint(event), last = pending[pending.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) > 0.04) { pending.push(p); draw(); }
  }
  canvas.addEventListener("mousedown", (e) => { if (model.get("drawing")) { down = true; add(e); } });
  canvas.addEventListener("mousemove", (e) => { if (down) add(e); });
  const finish = () => {
    if (down && pending.length) model.send({ type: "draw", points: pending });
    down = false; pending = [];
  };
  canvas.addEventListener("mouseup", finish);
  canvas.addEventListener("mouseleave", finish);
  model.on("change:drawing", () => { canvas.style.cursor = model.get("drawing") ? "crosshair" : "default"; });
  for (const name of ["frame", "layers", "drawn", "size"]) model.on("change:" + name, draw);
  draw();
}
export default { render };
"""


class FieldCanvas(anywidget.AnyWidget):
    """Browser half of :class:`FieldView` (bytes in, pixels out, drawn points back)."""

    _esm = _FIELD_ESM
    size = traitlets.Int(400).tag(sync=True)
    extent = traitlets.List(traitlets.Float(), default_value=list(PLANE)).tag(sync=True)
    layers = traitlets.Dict(default_value={name: True for name in LAYERS}).tag(sync=True)
    heatmap = traitlets.Bytes(b"").tag(sync=True)  # uint8 (R*R,), row 0 = top of the plane
    heatmap_resolution = traitlets.Int(0).tag(sync=True)
    real = traitlets.Bytes(b"").tag(sync=True)  # float32 (N*2,)
    fake = traitlets.Bytes(b"").tag(sync=True)  # float32 (N*2,)
    arrows = traitlets.Bytes(b"").tag(sync=True)  # float32 (N*2,): vectors from the fake points
    manifold = traitlets.Bytes(b"").tag(sync=True)  # float32 (M*M*2,) or (M*2,)
    manifold_density = traitlets.Bytes(b"").tag(sync=True)  # uint8 per cell / segment
    manifold_resolution = traitlets.Int(0).tag(sync=True)
    manifold_dim = traitlets.Int(2).tag(sync=True)
    drawn = traitlets.Bytes(b"").tag(sync=True)  # float32 (K*2,)
    drawing = traitlets.Bool(False).tag(sync=True)
    frame = traitlets.Int(0).tag(sync=True)  # bumped after each frame: the browser repaints once


def _f32(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=np.float32).tobytes()


def _u8(array: np.ndarray) -> bytes:
    return np.clip(np.rint(np.nan_to_num(array) * 255), 0, 255).astype(np.uint8).tobytes()


class FieldView:
    """Plane view: ``show(frame)`` to paint, ``layers`` to toggle, ``drawn`` for user points."""

    def __init__(self, size: int = 400) -> None:
        self.widget = FieldCanvas(size=size)
        self.widget.add_class("ganlab-field")
        self.drawn: list[tuple[float, float]] = []
        self.widget.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "draw":
            self.add_points(content.get("points", []))

    def add_points(self, points) -> None:
        """Add drawn points (plane coordinates); points off the plane are ignored."""
        low, high = self.widget.extent
        for point in points:
            x, y = float(point[0]), float(point[1])
            if low <= x <= high and low <= y <= high:
                self.drawn.append((x, y))
        self.widget.drawn = _f32(np.array(self.drawn, dtype=np.float32).reshape(-1, 2))

    def clear_drawing(self) -> None:
        self.drawn.clear()
        self.widget.drawn = b""

    def set_layer(self, name: str, visible: bool) -> None:
        if name not in LAYERS:
            raise ValueError(f"unknown layer {name!r}; layers are: {', '.join(LAYERS)}")
        self.widget.layers = {**self.widget.layers, name: bool(visible)}

    def show(self, frame: FieldFrame) -> None:
        """Serialise ``frame`` and send it in one message (the browser repaints once)."""
        manifold_dim = 1 if frame.manifold.ndim == 2 else 2
        with self.widget.hold_sync():
            self.widget.heatmap = _u8(frame.heatmap[::-1])  # row 0 = top for the canvas
            self.widget.heatmap_resolution = int(frame.heatmap.shape[0])
            self.widget.real = _f32(frame.real)
            self.widget.fake = _f32(frame.fake)
            self.widget.arrows = _f32(frame.arrows)
            self.widget.manifold = _f32(frame.manifold)
            self.widget.manifold_density = _u8(frame.manifold_density)
            self.widget.manifold_resolution = int(frame.manifold.shape[0])
            self.widget.manifold_dim = manifold_dim
            self.widget.frame = self.widget.frame + 1

    def figure(self, frame: FieldFrame, ax=None, title: str = ""):
        """Paint ``frame`` with matplotlib, honouring the layer toggles (static snapshots)."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import LinearSegmentedColormap

        if ax is None:
            _, ax = plt.subplots(figsize=(5.0, 5.0), dpi=110)
        layers = self.widget.layers
        low, high = frame.extent
        if layers.get("heatmap"):
            cmap = LinearSegmentedColormap.from_list("ganlab", ["#c2a5cf", "#f7f7f7", "#a6dba0"])
            ax.imshow(
                frame.heatmap,
                origin="lower",
                extent=(low, high, low, high),
                cmap=cmap,
                vmin=0,
                vmax=1,
                interpolation="bilinear",
            )
        if layers.get("manifold"):
            grid = frame.manifold
            if grid.ndim == 2:
                ax.plot(grid[:, 0], grid[:, 1], color=FAKE_COLOR, alpha=0.5, lw=2)
            else:
                for line in list(grid) + list(grid.transpose(1, 0, 2)):
                    ax.plot(line[:, 0], line[:, 1], color=FAKE_COLOR, alpha=0.18, lw=0.7)
        if layers.get("real"):
            ax.scatter(frame.real[:, 0], frame.real[:, 1], s=4, color=REAL_COLOR, label="real")
        if layers.get("fake"):
            ax.scatter(frame.fake[:, 0], frame.fake[:, 1], s=4, color=FAKE_COLOR, label="fake")
        if layers.get("arrows") and len(frame.arrows) == len(frame.fake):
            ax.quiver(
                frame.fake[:, 0],
                frame.fake[:, 1],
                frame.arrows[:, 0],
                frame.arrows[:, 1],
                angles="xy",
                scale_units="xy",
                scale=1,
                width=0.003,
                color="#444",
                alpha=0.8,
            )
        if self.drawn:
            drawn = np.array(self.drawn)
            ax.scatter(drawn[:, 0], drawn[:, 1], s=10, color=DRAWN_COLOR, marker="x", label="drawn")
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.set_aspect("equal")
        # Projector-readable, like the charts: title 12 pt, ticks 11 pt.
        ax.set_title(title or f"step {frame.step}", fontsize=12)
        ax.tick_params(labelsize=11)
        return ax.figure
