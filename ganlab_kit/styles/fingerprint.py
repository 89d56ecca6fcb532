"""The "style fingerprint" chart: each domain's style statistics side by side.

A view: it takes the plain dicts ``statistics.set_statistics`` returns and draws them;
nothing here computes a statistic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .statistics import SCALAR_MEASURES, TONE_NAMES

MEASURE_LABELS = {
    "blank_space": "blank space\n(liubai)",
    "saturation": "saturation",
    "palette_size": "palette size\n(colours for 90%)",
    "edge_density": "edge density",
    "stroke_width": "stroke width\n(px)",
    "texture_energy": "texture energy",
}


def fingerprint_table(per_domain: dict[str, dict[str, float]]) -> str:
    """Fixed-width text table of the scalar measures (rows: measures, columns: domains)."""
    names = list(per_domain)
    lines = ["measure".ljust(16) + "".join(n.rjust(11) for n in names)]
    for measure in SCALAR_MEASURES:
        lines.append(measure.ljust(16) + "".join(f"{per_domain[n][measure]:11.3f}" for n in names))
    return "\n".join(lines)


def plot_fingerprints(per_domain: dict[str, dict[str, float]], colours: dict[str, str] | None = None):
    """Two panels: scalar measures as grouped bars, each scaled by its largest value across
    domains (so different units share one axis; the raw numbers are annotated), and the
    ink-tone histograms. Returns the matplotlib figure."""
    colours = colours or {}
    names = list(per_domain)
    figure, (bars, tones) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [per_domain[name][m] for m in SCALAR_MEASURES]
        scaled = [v / max(max(per_domain[n][m] for n in names), 1e-9) for v, m in zip(values, SCALAR_MEASURES)]
        positions = [k + (i - (len(names) - 1) / 2) * width for k in range(len(SCALAR_MEASURES))]
        drawn = bars.bar(positions, scaled, width, label=name, color=colours.get(name))
        for rect, value in zip(drawn, values):
            bars.text(
                rect.get_x() + rect.get_width() / 2,
                rect.get_height() + 0.01,
                f"{value:.2g}",
                ha="center",
                va="bottom",
                fontsize=9,
                rotation=90,
            )
    bars.set_xticks(range(len(SCALAR_MEASURES)), [MEASURE_LABELS[m] for m in SCALAR_MEASURES], fontsize=11)
    bars.set_ylim(0, 1.3)
    bars.set_ylabel("relative to the largest domain")
    bars.set_title("style fingerprint")
    bars.legend(fontsize=11, ncol=len(names))
    for name in names:
        shares = [per_domain[name][f"tone {band}"] for band in TONE_NAMES]
        tones.plot(range(len(TONE_NAMES)), shares, marker="o", label=name, color=colours.get(name))
    # Romanised names: CJK fonts are often missing from matplotlib installs.
    tones.set_xticks(range(len(TONE_NAMES)), ["jiao", "nong", "zhong", "dan", "qing", "paper"])
    tones.set_ylabel("share of pixels")
    tones.set_title("ink-tone histogram (dark -> light)")
    tones.legend(fontsize=11)
    figure.tight_layout()
    return figure
