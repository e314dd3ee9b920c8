"""The TPP / performance-density chart: an edition's 3A090 regions shaded and labelled, chips on top.

Two layers. ``chart_model`` is pure Python: it reads the edition's paragraphs (their thresholds are
data, never constants here), cuts the plane into the regions the classifier would walk to, and
places every chip: on the plot, in the "density unknown" strip above it (TPP known, area not), or
in the "TPP unknown" panel beside it. No chip is ever dropped. ``draw``/``write_chart`` turn the
model into a matplotlib figure (Agg, headless), imported only when a picture is wanted, never at
``import tppcalc``.

The regions are the primary reading for an item designed for datacenters: the paragraphs are
walked in order and the first whose TPP and density conditions hold names the cell. Conditions the
chart cannot show (I/O rate, datacenter flags) are written into the region's label; exclusions
(Note 2) and paragraphs that are not about TPP and density (3A090.c, memory) are footnotes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tppcalc.errors import InputError, MissingExtraError
from tppcalc.metrics import Metrics, compute_metrics
from tppcalc.rules.editions import Citation, Exclusion, Paragraph, RuleBook
from tppcalc.rules.in_force import rules_in_force
from tppcalc.rules.predicates import PREDICATES
from tppcalc.spec import ChipSpec
from tppcalc.visible_text import visible

OUTSIDE = "outside"
FORMATS = {".png": "png", ".svg": "svg"}

# ---- the rules, as the chart sees them ----------------------------------------------------------

@dataclass(frozen=True)
class RuleView:
    """A base edition with its overlays, flattened: what the chart draws."""

    id: str
    title: str
    layers: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]
    exclusions: tuple[Exclusion, ...]
    citations: tuple[Citation, ...]


def rules_view(*, edition: str | None = None, as_of: dt.date | None = None, overlays: Sequence[str] = (),
               as_written: bool = False, rulebook: RuleBook | None = None) -> RuleView:
    """The rules named by ``edition`` (with ``overlays``), else those in force on ``as_of`` (today),
    with every effective overlay applied ``as_written``: the rules ``rules_in_force`` picks."""
    rules = rules_in_force(as_of, edition, as_written, overlays=overlays, rulebook=rulebook)
    return RuleView(
        id=rules.id,
        title=rules.base.title,
        layers=tuple(e.id for e in rules.layers),
        paragraphs=tuple(rules.paragraphs),
        exclusions=tuple(rules.exclusions),
        citations=tuple(rules.citations),
    )


@dataclass(frozen=True)
class Box:
    """A paragraph's TPP x density rectangle (half-open: lows included, highs excluded)."""

    paragraph: str
    eccn: str
    tpp: tuple[Decimal, Decimal | None]
    density: tuple[Decimal, Decimal | None]
    extra: tuple[str, ...]          # conditions the axes cannot show, in words

    def contains(self, tpp: float, density: float) -> bool:
        return (float(self.tpp[0]) <= tpp and (self.tpp[1] is None or tpp < float(self.tpp[1]))
                and float(self.density[0]) <= density
                and (self.density[1] is None or density < float(self.density[1])))


def paragraph_boxes(view: RuleView) -> tuple[list[Box], list[Paragraph]]:
    """Each drawable paragraph as a box, in walking order; and the paragraphs not drawn. Each
    predicate says where it goes (``Predicate.chart``): a low or high side of an axis, the
    region's label, or off the chart (a paragraph about another kind of item, such as 3A090.c)."""
    boxes, skipped = [], []
    for paragraph in view.paragraphs:
        conditions = [(PREDICATES[name], value) for condition in paragraph.when for name, value in condition.items()]
        if any(predicate.chart == "not drawn" for predicate, _ in conditions):
            skipped.append(paragraph)
            continue
        low = {"tpp": Decimal(0), "density": Decimal(0)}
        high: dict[str, Decimal | None] = {"tpp": None, "density": None}
        extra = []
        for predicate, value in conditions:
            if predicate.chart == "label":
                extra.append(predicate.describe(None if isinstance(value, bool) else value))
                continue
            axis, side = predicate.chart
            if side == "low":
                low[axis] = max(low[axis], value)
            else:
                high[axis] = value if high[axis] is None else min(high[axis], value)
        boxes.append(Box(paragraph.id, paragraph.eccn, (low["tpp"], high["tpp"]), (low["density"], high["density"]),
                         tuple(extra)))
    return boxes, skipped


@dataclass(frozen=True)
class Region:
    """One shaded rectangle of the chart: ``label`` is a paragraph id or ``outside``."""

    label: str
    eccn: str | None
    tpp: tuple[float, float]
    density: tuple[float, float]
    extra: tuple[str, ...] = ()


def regions(view: RuleView, tpp_range: tuple[float, float], density_range: tuple[float, float]) -> list[Region]:
    """The plane cut at every threshold of the edition, each cell named by the first paragraph
    whose box holds it, and same-named neighbours merged into rectangles."""
    boxes, _ = paragraph_boxes(view)
    xs = _cuts(tpp_range, [v for b in boxes for v in b.tpp if v is not None])
    ys = _cuts(density_range, [v for b in boxes for v in b.density if v is not None])
    grid: list[list[Box | None]] = []
    for y0, y1 in itertools.pairwise(ys):
        row = []
        for x0, x1 in itertools.pairwise(xs):
            x, y = math.sqrt(x0 * x1), (y0 + y1) / 2   # a point strictly inside the cell
            row.append(next((b for b in boxes if b.contains(x, y)), None))
        grid.append(row)
    cells: list[Region] = []
    for j, row in enumerate(grid):                    # merge along TPP within a row
        start = 0
        for i in range(1, len(row) + 1):
            if i == len(row) or row[i] is not row[start]:
                box = row[start]
                cells.append(Region(OUTSIDE if box is None else box.paragraph, None if box is None else box.eccn,
                                    (xs[start], xs[i]), (ys[j], ys[j + 1]), () if box is None else box.extra))
                start = i
    merged: list[Region] = []                         # then stack identical spans
    for cell in cells:
        above = next((m for m in merged if m.label == cell.label and m.tpp == cell.tpp
                      and m.density[1] == cell.density[0]), None)
        if above is not None:
            merged[merged.index(above)] = Region(above.label, above.eccn, above.tpp,
                                                 (above.density[0], cell.density[1]), above.extra)
        else:
            merged.append(cell)
    return merged


def boundaries(found: Sequence[Region]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The segments where two regions with different labels meet: the edition's lines."""
    segments = []
    for a in found:
        for b in found:
            if a.label == b.label:
                continue
            if a.tpp[1] == b.tpp[0]:                  # b to the right of a
                low, high = max(a.density[0], b.density[0]), min(a.density[1], b.density[1])
                if low < high:
                    segments.append(((a.tpp[1], low), (a.tpp[1], high)))
            if a.density[1] == b.density[0]:          # b above a
                low, high = max(a.tpp[0], b.tpp[0]), min(a.tpp[1], b.tpp[1])
                if low < high:
                    segments.append(((low, a.density[1]), (high, a.density[1])))
    return sorted(set(segments))


def _round_down(x: float) -> float:
    """1, 2 or 5 times a power of ten, at or below ``x``: tidy axis ends."""
    power = 10 ** math.floor(math.log10(x))
    return max(m for m in (1, 2, 5) if m * power <= x) * power


def _round_up(x: float) -> float:
    power = 10 ** math.floor(math.log10(x))
    return min(m for m in (1, 2, 5, 10) if m * power >= x) * power


def _cuts(span: tuple[float, float], thresholds: Iterable[Decimal]) -> list[float]:
    low, high = span
    inside = sorted({float(t) for t in thresholds if low < float(t) < high})
    return [low, *inside, high]


# ---- chips ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartChip:
    """A chip to place: an id (for the artist's gid), a label as people read it, its metrics."""

    key: str
    label: str
    metrics: Metrics
    highlighted: bool = False


@dataclass(frozen=True)
class Point:
    key: str
    label: str
    tpp: float | None
    density: float | None
    place: str                      # "plot", "density unknown" or "tpp unknown"
    highlighted: bool
    datacenter: bool | None
    note: str = ""                  # what is known of an unknown value ("TPP at least 1,200")


def chips_from_specs(specs: Iterable[ChipSpec], highlight: Iterable[str] = ()) -> list[ChartChip]:
    marked = set(highlight)
    return [ChartChip(s.id, s.name, compute_metrics(s), s.id in marked) for s in specs]


def _point(chip: ChartChip) -> Point:
    from tppcalc.exact import format_number

    metrics = chip.metrics
    tpp, density = metrics.tpp, metrics.performance_density
    if tpp is None:
        low, high = metrics.primary.tpp_bounds
        note = ("TPP unknown" if not low and high is None else
                f"TPP at least {format_number(low)}" if high is None else
                f"TPP {format_number(low)} to {format_number(high)}")
        return Point(chip.key, chip.label, None, None, "tpp unknown", chip.highlighted, metrics.datacenter, note)
    if density is None:
        low, high = metrics.primary.density_bounds
        note = ("density unknown" if not low and high is None else
                f"density at least {format_number(low, 2)}" if high is None else
                f"density {format_number(low, 2)} to {format_number(high, 2)}")
        return Point(chip.key, chip.label, float(tpp), None, "density unknown", chip.highlighted,
                     metrics.datacenter, note)
    return Point(chip.key, chip.label, float(tpp), float(density), "plot", chip.highlighted, metrics.datacenter)


@dataclass(frozen=True)
class ChartModel:
    """Everything the picture shows, before any drawing: what tests and the HTML report read."""

    view: RuleView
    tpp_range: tuple[float, float]
    density_range: tuple[float, float]
    regions: list[Region]
    points: list[Point]
    compare: RuleView | None = None
    compare_regions: list[Region] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def lines(self):
        return boundaries(self.regions)

    @property
    def compare_lines(self):
        return boundaries(self.compare_regions)


def chart_model(chips: Sequence[ChartChip], view: RuleView, *, compare: RuleView | None = None) -> ChartModel:
    points = [_point(c) for c in chips]
    boxes, skipped = paragraph_boxes(view)
    compare_boxes = paragraph_boxes(compare)[0] if compare is not None else []
    tpp_lines = [float(v) for b in [*boxes, *compare_boxes] for v in b.tpp if v]
    density_lines = [float(v) for b in [*boxes, *compare_boxes] for v in b.density if v]
    known_tpp = [p.tpp for p in points if p.tpp]
    known_density = [p.density for p in points if p.density is not None]
    tpp_values = known_tpp + tpp_lines or [1000.0]
    tpp_range = (_round_down(min(tpp_values) / 1.8), _round_up(max(tpp_values) * 1.8))
    top = max(known_density + [d * 1.3 for d in density_lines] + [1.0])
    density_range = (0.0, math.ceil(top * 1.08))
    notes = []
    for box in boxes:
        if box.extra:
            notes.append(f"{box.paragraph} also requires: {'; '.join(box.extra)}")
    if compare is not None:
        for box in compare_boxes:
            if box.extra:
                notes.append(f"{compare.id} (compared): {box.paragraph} also requires: {'; '.join(box.extra)}")
    for exclusion in view.exclusions:
        notes.append(f"{exclusion.citation}: {exclusion.text} (hollow markers: not designed for datacenters)")
    for paragraph in skipped:
        notes.append(f"Not drawn: {paragraph.citation}")
    notes.append("Regions: the primary reading for a chip designed or marketed for datacenters.")
    return ChartModel(
        view=view, tpp_range=tpp_range, density_range=density_range,
        regions=regions(view, tpp_range, density_range), points=points, compare=compare,
        compare_regions=[] if compare is None else regions(compare, tpp_range, density_range), notes=notes,
    )


# ---- drawing (matplotlib, lazily) ----------------------------------------------------------------

_GREYS = "#f2f2f2"


def _region_colours(found: Sequence[Region]) -> dict[str, str]:
    """A colour per label: reds for .a paragraphs, ambers for .b, violets otherwise, grey outside."""
    shades = {"a": ["#eb9a9a", "#f8cfcf", "#dd7676"], "b": ["#f6c26b", "#fbe5a6", "#f0a94a"]}
    colours: dict[str, str] = {}
    used: dict[str, int] = {}
    for region in found:
        if region.label in colours:
            continue
        if region.label == OUTSIDE:
            colours[region.label] = _GREYS
            continue
        letter = (region.eccn or "").rsplit(".", 1)[-1]
        palette = shades.get(letter, ["#c9b8e8", "#ddd2f0", "#b49fdc"])
        colours[region.label] = palette[used.get(letter, 0) % len(palette)]
        used[letter] = used.get(letter, 0) + 1
    return colours


def _rc():
    return {"svg.fonttype": "none", "svg.hashsalt": "tppcalc", "font.family": "DejaVu Sans",
            "path.simplify": False}


def require_matplotlib():
    """matplotlib, or one error line naming the extra that brings it."""
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError("matplotlib (needed to draw charts)", "chart") from None
    return matplotlib


def draw(model: ChartModel):
    """The chart as a matplotlib Figure (Agg canvas; no pyplot, no global state)."""
    matplotlib = require_matplotlib()

    with matplotlib.rc_context(_rc()):
        return _draw(model)


def _draw(model: ChartModel):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(14, 9.5), dpi=110)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 2, width_ratios=[5.2, 1], height_ratios=[1.5, 5.2], left=0.06, right=0.985,
                            top=0.92, bottom=0.2, wspace=0.03, hspace=0.04)
    ax = fig.add_subplot(grid[1, 0])
    strip = fig.add_subplot(grid[0, 0], sharex=ax)
    side = fig.add_subplot(grid[:, 1])
    ax.set_xscale("log")
    ax.set_xlim(*model.tpp_range)
    ax.set_ylim(*model.density_range)
    ax.set_xlabel("Total Processing Performance (TPP, log scale)")
    ax.set_ylabel("Performance density (TPP / applicable die area, mm²)")
    # Every string drawn passes through visible(): names from input files may hold control
    # characters, which would make the SVG invalid XML. parse_math=False: a "$" in a name is text.
    fig.suptitle(visible(f"3A090 regions under {model.view.id}: {model.view.title}"), fontsize=11, x=0.06,
                 ha="left", parse_math=False)

    # Regions, shaded and labelled once each (on their largest rectangle, in the largest type that fits).
    renderer = fig.canvas.get_renderer()
    colours = _region_colours(model.regions)
    largest: dict[str, Region] = {}
    obstacles = []
    for n, region in enumerate(model.regions):
        ax.add_patch(Rectangle((region.tpp[0], region.density[0]), region.tpp[1] - region.tpp[0],
                               region.density[1] - region.density[0], facecolor=colours[region.label],
                               edgecolor="none", zorder=0, gid=visible(f"region-{region.label}-{n}"),
                               label=visible(region.label)))
        best = largest.get(region.label)
        if best is None or _area(region) > _area(best):
            largest[region.label] = region
    for label, region in largest.items():
        text = label if label != OUTSIDE else "outside 3A090"
        if region.extra:
            text += "\n(+ " + "; ".join(region.extra) + ")"
        text = visible(text)
        (x0, y0), (x1, y1) = ax.transData.transform([(region.tpp[0], region.density[0]),
                                                     (region.tpp[1], region.density[1])])
        for size in (14, 12, 10, 8.5, 7):
            note = ax.text(math.sqrt(region.tpp[0] * region.tpp[1]), (region.density[0] + region.density[1]) / 2,
                           text, ha="center", va="center", fontsize=size, fontweight="bold", zorder=1,
                           color="#6b1010" if label != OUTSIDE else "#777", alpha=0.6,
                           gid=visible(f"region-label-{label}"), parse_math=False)
            box = note.get_window_extent(renderer)
            if size == 7 or (box.width < 0.92 * (x1 - x0) and box.height < 0.9 * (y1 - y0)):
                obstacles.append((box.x0, box.y0, box.x1, box.y1))
                break
            note.remove()
    for (x0, y0), (x1, y1) in model.lines:
        ax.plot([x0, x1], [y0, y1], color="#8b0000", linewidth=1.3, zorder=2)
    legend = [Line2D([], [], color="#8b0000", linewidth=1.3, label=visible(f"{model.view.id} lines"))]
    if model.compare is not None:
        for (x0, y0), (x1, y1) in model.compare_lines:
            ax.plot([x0, x1], [y0, y1], color="#1f4e9b", linewidth=1.6, linestyle=(0, (5, 3)), zorder=3,
                    gid="compare-line")
        legend.append(Line2D([], [], color="#1f4e9b", linewidth=1.6, linestyle=(0, (5, 3)),
                             label=visible(f"{model.compare.id} lines (compared)")))

    # Threshold lines carried into the strip, so a chip there can be read against the TPP lines.
    strip.set_ylim(0, 1)
    strip.set_yticks([])
    strip.tick_params(labelbottom=False)
    strip.set_facecolor("#fafafa")
    strip.set_title("density unknown (TPP known, applicable die area not)", fontsize=8, loc="left", pad=3)
    for x in sorted({seg[0][0] for seg in model.lines if seg[0][0] == seg[1][0]}):
        strip.axvline(x, color="#8b0000", linewidth=0.8, alpha=0.6)

    side.set_xlim(0, 1)
    side.set_ylim(0, 1)
    side.set_xticks([])
    side.set_yticks([])
    side.set_facecolor("#fafafa")
    side.set_title("TPP unknown", fontsize=8, loc="left", pad=3)

    if not any(p.place == "density unknown" for p in model.points):
        strip.text(0.5, 0.5, "none", transform=strip.transAxes, ha="center", va="center", color="#999", fontsize=8)
    if not any(p.place == "tpp unknown" for p in model.points):
        side.text(0.5, 0.5, "none", transform=side.transAxes, ha="center", va="center", color="#999", fontsize=8)
    markers = []
    strip_points = [p for p in model.points if p.place == "density unknown"]
    side_points = [p for p in model.points if p.place == "tpp unknown"]
    for n, point in enumerate(model.points):
        if point.place == "plot":
            target, xy = ax, (point.tpp, point.density)
        elif point.place == "density unknown":
            k = strip_points.index(point)
            target, xy = strip, (point.tpp, 0.1 + 0.8 * ((k * 0.618) % 1))
        else:
            k = side_points.index(point)
            target, xy = side, (0.08, 0.96 - (k + 0.5) * min(0.06, 0.92 / max(len(side_points), 1)))
        markers.append((point, target, xy, _marker(target, point, xy, n)))
    handles = _marker_legend(model.points)

    key = ax.legend(handles=legend + handles, loc="upper left", fontsize=8, framealpha=0.9)
    box = key.get_window_extent(renderer)
    obstacles.append((box.x0, box.y0, box.x1, box.y1))
    _place_labels(fig, markers, obstacles)
    fig.text(0.06, 0.11, visible("\n".join(_wrap(n, 190) for n in model.notes)), fontsize=7.5, va="top",
             ha="left", color="#333", gid="chart-notes", parse_math=False)
    return fig


def _area(region: Region) -> float:
    return math.log10(region.tpp[1] / region.tpp[0]) * (region.density[1] - region.density[0])


def _marker(target, point: Point, xy, n: int):
    filled = point.datacenter is not False
    shape = "D" if point.datacenter is None else "o"
    size = 10 if point.highlighted else 5.5
    edge = "#c00000" if point.highlighted else "#222"
    (line,) = target.plot([xy[0]], [xy[1]], marker=shape, markersize=size, linestyle="none",
                          markerfacecolor=(edge if point.highlighted else "#333") if filled else "white",
                          markeredgecolor=edge, markeredgewidth=2 if point.highlighted else 1,
                          zorder=6 if point.highlighted else 5, gid=f"chip-{n}", clip_on=False)
    return line


def _marker_legend(points: Sequence[Point]):
    from matplotlib.lines import Line2D

    handles = []
    kinds = {p.datacenter for p in points}
    if True in kinds:
        handles.append(Line2D([], [], marker="o", linestyle="none", color="#333", label="designed for datacenters"))
    if False in kinds:
        handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="white",
                              markeredgecolor="#222", label="not designed for datacenters"))
    if None in kinds:
        handles.append(Line2D([], [], marker="D", linestyle="none", color="#333", label="datacenter use unknown"))
    if any(p.highlighted for p in points):
        handles.append(Line2D([], [], marker="o", markersize=10, linestyle="none", color="#c00000",
                              markeredgewidth=2, label="highlighted"))
    return handles


_OFFSETS = [(6, 4), (6, -11), (-6, 4), (-6, -11), (0, 9), (0, -15), (12, 12), (12, -19), (-12, 12),
            (-12, -19), (20, 0), (-20, 0), (0, 22), (0, -28), (26, 16), (-26, 16), (26, -24), (-26, -24),
            (36, 0), (-36, 0), (0, 36), (0, -40)]


def _place_labels(fig, markers, obstacles) -> None:
    """Greedy label placement: the first offset whose text box overlaps no label, marker, region
    label or legend; failing that, the last offset with a leader line."""
    renderer = fig.canvas.get_renderer()
    taken = list(obstacles)
    for _, target, xy, _line in markers:
        x, y = target.transData.transform(xy)
        taken.append((x - 5, y - 5, x + 5, y + 5))
    ordered = sorted(markers, key=lambda m: (not m[0].highlighted, m[0].place != "plot"))
    figure_box = fig.bbox
    for point, target, xy, _line in ordered:
        text = visible(point.label if point.place == "plot" else f"{point.label}" + (
            f" ({point.note})" if point.place == "tpp unknown" and point.note != "TPP unknown" else ""))
        style = {"fontsize": 8.5 if point.highlighted else 6.5, "fontweight": "bold" if point.highlighted else "normal",
                 "color": "#a00000" if point.highlighted else "#111", "zorder": 7,
                 "annotation_clip": False, "parse_math": False}
        offsets = [(8, -3)] if point.place == "tpp unknown" else _OFFSETS
        chosen = None
        for dx, dy in offsets:
            note = target.annotate(text, xy, xytext=(dx, dy), textcoords="offset points",
                                   ha="left" if dx >= 0 else "right", **style)
            box = note.get_window_extent(renderer)
            rect = (box.x0, box.y0, box.x1, box.y1)
            frame = target.bbox if point.place != "tpp unknown" else figure_box
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1)
            if inside and not any(_overlap(rect, t) for t in taken):
                chosen = (note, rect)
                break
            note.remove()
        if chosen is None:   # crowded: the last offset, tied to its point by a thin line
            dx, dy = offsets[-1] if len(offsets) > 1 else offsets[0]
            note = target.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha="left" if dx >= 0 else "right",
                                   arrowprops={"arrowstyle": "-", "color": "#999", "linewidth": 0.5}, **style)
            box = note.get_window_extent(renderer)
            chosen = (note, (box.x0, box.y0, box.x1, box.y1))
        taken.append(chosen[1])


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, subsequent_indent="    ")) or text


def chart_format(path: str | Path) -> str:
    """``png`` or ``svg`` from the file name; anything else is refused."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"cannot tell the chart format from {str(path)!r}: name the file .png or .svg",
                         field="-o")
    return FORMATS[suffix]


def render(model: ChartModel, fmt: str) -> bytes:
    """The chart as PNG or SVG bytes (reproducible: no dates, fixed SVG ids)."""
    import io

    matplotlib = require_matplotlib()
    with matplotlib.rc_context(_rc()):
        fig = _draw(model)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=110)
    return buffer.getvalue()


def write_chart(model: ChartModel, path: str | Path) -> Path:
    """Write the chart to ``path`` (format from the extension), atomically."""
    from tppcalc.outputs import write_file  # a fresh O_EXCL temporary, renamed: see tppcalc.outputs

    path = Path(path)
    return write_file(path, render(model, chart_format(path)))
