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

from tppcalc.core.metrics import Metrics, compute_metrics
from tppcalc.data.spec import ChipSpec
from tppcalc.decisions.rules.editions import Citation, Exclusion, Paragraph, RuleBook, default_rulebook
from tppcalc.decisions.rules.in_force import rules_in_force
from tppcalc.decisions.rules.predicates import PREDICATES
from tppcalc.errors import InputError, MissingExtraError
from tppcalc.render.visible_text import visible

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
    from tppcalc.core.exact import format_number

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
    fig, ax, strip, side = _chart_axes(model)
    obstacles = _draw_regions(fig, ax, model)
    legend = _draw_threshold_lines(ax, model)
    _strip_panel(strip, model)
    _side_panel(side, "TPP unknown")
    if not any(p.place == "density unknown" for p in model.points):
        _say_none(strip)
    if not any(p.place == "tpp unknown" for p in model.points):
        _say_none(side)
    markers = _chart_markers(model, ax, strip, side)
    _legend_as_obstacle(fig, ax, legend + _marker_legend(model.points), "upper left", obstacles)
    _place_labels(fig, markers, obstacles)
    _notes_text(fig, 0.06, model.notes)
    return fig


def _chart_axes(model: ChartModel):
    """The figure: the plot, the strip above it (density unknown) and the panel beside it (TPP unknown)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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
    return fig, ax, strip, side


def _draw_regions(fig, ax, model: ChartModel) -> list:
    """Regions, shaded and labelled once each (on their largest rectangle, in the largest type that
    fits); the label boxes, which chip labels must then avoid."""
    from matplotlib.patches import Rectangle

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
    return obstacles


def _draw_threshold_lines(ax, model: ChartModel) -> list:
    """The edition's threshold lines (and a compared edition's, dashed); their legend entries."""
    from matplotlib.lines import Line2D

    for (x0, y0), (x1, y1) in model.lines:
        ax.plot([x0, x1], [y0, y1], color="#8b0000", linewidth=1.3, zorder=2)
    legend = [Line2D([], [], color="#8b0000", linewidth=1.3, label=visible(f"{model.view.id} lines"))]
    if model.compare is not None:
        for (x0, y0), (x1, y1) in model.compare_lines:
            ax.plot([x0, x1], [y0, y1], color="#1f4e9b", linewidth=1.6, linestyle=(0, (5, 3)), zorder=3,
                    gid="compare-line")
        legend.append(Line2D([], [], color="#1f4e9b", linewidth=1.6, linestyle=(0, (5, 3)),
                             label=visible(f"{model.compare.id} lines (compared)")))
    return legend


def _strip_panel(strip, model: ChartModel) -> None:
    """Threshold lines carried into the strip, so a chip there can be read against the TPP lines."""
    strip.set_ylim(0, 1)
    strip.set_yticks([])
    strip.tick_params(labelbottom=False)
    strip.set_facecolor("#fafafa")
    strip.set_title("density unknown (TPP known, applicable die area not)", fontsize=8, loc="left", pad=3)
    for x in sorted({seg[0][0] for seg in model.lines if seg[0][0] == seg[1][0]}):
        strip.axvline(x, color="#8b0000", linewidth=0.8, alpha=0.6)


def _side_panel(side, title: str) -> None:
    """The panel beside the plot, for chips that cannot be placed on it."""
    side.set_xlim(0, 1)
    side.set_ylim(0, 1)
    side.set_xticks([])
    side.set_yticks([])
    side.set_facecolor("#fafafa")
    side.set_title(title, fontsize=8, loc="left", pad=3)


def _say_none(panel) -> None:
    panel.text(0.5, 0.5, "none", transform=panel.transAxes, ha="center", va="center", color="#999", fontsize=8)


def _side_slot(k: int, count: int) -> tuple[float, float]:
    """Where the k-th of ``count`` chips goes in a side panel: a column, top down."""
    return 0.08, 0.96 - (k + 0.5) * min(0.06, 0.92 / max(count, 1))


def _chart_markers(model: ChartModel, ax, strip, side) -> list:
    """Every chip's marker: on the plot, in the strip (density unknown) or beside it (TPP unknown)."""
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
            target, xy = side, _side_slot(side_points.index(point), len(side_points))
        markers.append((point, target, xy, _marker(target, point, xy, n)))
    return markers


def _legend_as_obstacle(fig, ax, handles: list, loc: str, obstacles: list) -> None:
    """The legend, whose box chip labels must then avoid."""
    key = ax.legend(handles=handles, loc=loc, fontsize=8, framealpha=0.9)
    box = key.get_window_extent(fig.canvas.get_renderer())
    obstacles.append((box.x0, box.y0, box.x1, box.y1))


def _notes_text(fig, x: float, notes: Sequence[str]) -> None:
    fig.text(x, 0.11, visible("\n".join(_wrap(n, 190) for n in notes)), fontsize=7.5, va="top",
             ha="left", color="#333", gid="chart-notes", parse_math=False)


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


def _place_labels(fig, markers, obstacles, *, skip_crowded: bool = False) -> list:
    """Greedy label placement: the first offset whose text box overlaps no label, marker, region
    label or legend; failing that, the last offset with a leader line (or, ``skip_crowded``, no
    label: the points left unlabelled are returned)."""
    skipped = []
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
        if chosen is None and skip_crowded and not point.highlighted and point.place == "plot":
            skipped.append(point)
            continue
        if chosen is None:   # crowded: the last offset, tied to its point by a thin line
            dx, dy = offsets[-1] if len(offsets) > 1 else offsets[0]
            note = target.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha="left" if dx >= 0 else "right",
                                   arrowprops={"arrowstyle": "-", "color": "#999", "linewidth": 0.5}, **style)
            box = note.get_window_extent(renderer)
            chosen = (note, (box.x0, box.y0, box.x1, box.y1))
        taken.append(chosen[1])
    return skipped


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
    return _rendered(_draw, model, fmt)


def _rendered(draw, model, fmt: str) -> bytes:
    """``draw(model)`` saved as PNG or SVG bytes, with no date or software stamp in them."""
    import io

    matplotlib = require_matplotlib()
    with matplotlib.rc_context(_rc()):
        fig = draw(model)
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=110)
    return buffer.getvalue()


def write_chart(model: ChartModel, path: str | Path) -> Path:
    """Write the chart to ``path`` (format from the extension), atomically."""
    from tppcalc.outputs import write_file  # a fresh O_EXCL temporary, renamed: see tppcalc.outputs

    path = Path(path)
    return write_file(path, render(model, chart_format(path)))


# ---- the second plane: TPP against total DRAM bandwidth (the January 2026 rules) -------------------
#
# The 2026 rules draw their lines in this plane, not in TPP x density: the case-by-case review
# zone for China and Macau (a review policy's TPP and DRAM bounds) and the Section 232 tariff
# bands (notices' bounds). Both are read from the rule data in use; nothing here is a number of
# the rules. A chip's place in a zone or band is decided exactly (the rules' own predicates and
# notice bounds, three-valued), not from its plotted float position.

BANDWIDTH_PLACES = ("plot", "off the chart", "bandwidth unknown", "tpp unknown")


@dataclass(frozen=True)
class PlaneArea:
    """A rectangle of the bandwidth plane the rules name: a review zone or a tariff band. Bounds
    are (low, high); None is open (0 below, no end above)."""

    id: str
    kind: str                       # "review zone" or "tariff band"
    label: str
    tpp: tuple[Decimal | None, Decimal | None]
    dram: tuple[Decimal | None, Decimal | None]
    source: str                     # the rule file and entry it was read from


@dataclass(frozen=True)
class BandwidthPoint:
    key: str
    label: str
    tpp: float | None
    dram: float | None
    place: str                      # one of BANDWIDTH_PLACES
    highlighted: bool
    datacenter: bool | None
    zones: tuple[str, ...]          # review zones it is in (by the exact rule test)
    bands: tuple[str, ...]          # tariff bands it is in
    maybe: tuple[str, ...]          # areas it may be in: a figure they depend on is unknown
    note: str = ""


@dataclass(frozen=True)
class BandwidthModel:
    view: RuleView
    tpp_range: tuple[float, float]
    dram_range: tuple[float, float]
    areas: list[PlaneArea]
    points: list[BandwidthPoint]
    notes: list[str] = field(default_factory=list)


def _bound_span(lows: Iterable[Decimal | None], highs: Iterable[Decimal | None]):
    low = max((v for v in lows if v is not None), default=None)
    high = min((v for v in highs if v is not None), default=None)
    return low, high


def bandwidth_areas(view: RuleView, *, rulebook: RuleBook | None = None) -> list[PlaneArea]:
    """The review zones (review policies bounded by TPP and DRAM bandwidth only) and the tariff
    bands (tariff notices bounded by TPP and DRAM) of the rules in ``view``."""
    book = rulebook or default_rulebook()
    areas = []
    for layer in (book.get(i) for i in view.layers):
        for policy in layer.review_policies:
            names = {name for condition in policy.when for name in condition}
            if not names or not names <= {"tpp_at_least", "tpp_below", "dram_bandwidth_below"}:
                continue
            values = [(n, v) for condition in policy.when for n, v in condition.items()]
            tpp = _bound_span([v for n, v in values if n == "tpp_at_least"], [v for n, v in values if n == "tpp_below"])
            dram = (None, min((v for n, v in values if n == "dram_bandwidth_below"), default=None))
            where = ", ".join([*(policy.destinations.countries if policy.destinations else []),
                               *(policy.destinations.groups if policy.destinations else [])])
            label = f"{policy.policy} ({where})" if where else policy.policy
            if policy.us_available_by is not None:  # a condition no figure shows: the label says it
                label += f" if on the US market by {policy.us_available_by}"
            areas.append(PlaneArea(policy.id, "review zone", label, tpp, dram, f"{layer.id}: {policy.citation}"))
        for rule in layer.notices:
            figures = {b.figure for b in rule.when}
            if rule.kind != "tariff" or not figures or not figures <= {"tpp", "dram"}:
                continue
            spans = {f: _bound_span([v for b in rule.when if b.figure == f for v in (b.at_least, b.above)],
                                    [v for b in rule.when if b.figure == f for v in (b.at_most, b.below)])
                     for f in ("tpp", "dram")}
            areas.append(PlaneArea(rule.id, "tariff band", rule.id.replace("-", " "), spans["tpp"], spans["dram"],
                                   f"{layer.id}: {rule.citation.title}"))
    return areas


def _area_answer(area: PlaneArea, metrics: Metrics, book: RuleBook, view: RuleView):
    """Whether the chip is in ``area``, by the rule's own test: YES, NO or UNKNOWN."""
    from tppcalc.decisions.rules.notices import bounds_hold
    from tppcalc.decisions.rules.predicates import PREDICATES, all_of

    for layer in (book.get(i) for i in view.layers):
        if area.kind == "review zone":
            policy = next((p for p in layer.review_policies if p.id == area.id), None)
            if policy is not None:
                return all_of(PREDICATES[n].scalar(metrics, metrics.primary, v)
                              for condition in policy.when for n, v in condition.items())
        else:
            rule = next((r for r in layer.notices if r.id == area.id), None)
            if rule is not None:
                return bounds_hold(rule.when, metrics, metrics.primary)
    raise LookupError(area.id)


def bandwidth_model(chips: Sequence[ChartChip], view: RuleView, *, rulebook: RuleBook | None = None) -> BandwidthModel:
    """Every chip placed in the TPP x total DRAM bandwidth plane, with the areas of ``view``."""
    from tppcalc.decisions.rules.predicates import NO, YES

    book = rulebook or default_rulebook()
    areas = bandwidth_areas(view, rulebook=book)
    points = []
    for chip in chips:
        metrics = chip.metrics
        answers = {a.id: _area_answer(a, metrics, book, view) for a in areas}
        inside = {a.id for a in areas if answers[a.id] is YES}
        maybe = tuple(a.id for a in areas if answers[a.id] is not YES and answers[a.id] is not NO)
        zones = tuple(a.id for a in areas if a.kind == "review zone" and a.id in inside)
        bands = tuple(a.id for a in areas if a.kind == "tariff band" and a.id in inside)
        tpp, dram = metrics.tpp, metrics.dram_bandwidth_gbps
        place = "tpp unknown" if tpp is None else "bandwidth unknown" if dram is None else "plot"
        note = "" if place == "plot" else place
        points.append(BandwidthPoint(chip.key, chip.label, None if tpp is None else float(tpp),
                                     None if dram is None else float(dram), place, chip.highlighted,
                                     metrics.datacenter, zones, bands, maybe, note))
    edges_tpp = [float(v) for a in areas for v in a.tpp if v is not None]
    edges_dram = [float(v) for a in areas for v in a.dram if v is not None]
    # Linear axes (a 300-TPP band is invisible on a log axis), cut at a few times the rules' lines
    # so rack-scale parts do not squeeze the bands flat; a chip beyond goes to the side panel.
    tpp_top = max([p.tpp for p in points if p.place == "plot"] + edges_tpp + [1000.0])
    dram_top = max([p.dram for p in points if p.place == "plot"] + edges_dram + [100.0])
    if edges_tpp:
        tpp_top = min(tpp_top, 2.2 * max(edges_tpp))
    if edges_dram:
        dram_top = min(dram_top, 2.0 * max(edges_dram))
    points = [p if p.place != "plot" or (p.tpp <= tpp_top and p.dram <= dram_top) else
              BandwidthPoint(p.key, p.label, p.tpp, p.dram, "off the chart", p.highlighted, p.datacenter, p.zones,
                             p.bands, p.maybe, f"TPP {p.tpp:,.0f}, {p.dram:,.0f} GB/s") for p in points]
    notes = [f"{a.id} ({a.kind}): {a.source}" for a in areas]
    if not areas:
        notes.append(f"The rules of {view.id} draw no line in this plane (the review zone and tariff bands "
                     "date from January 2026).")
    notes.append("A chip's zone or band is decided by the rule's own exact test; markers on an edge are placed "
                 "by it, not by the picture.")
    return BandwidthModel(view, (0.0, math.ceil(tpp_top * 1.12)), (0.0, math.ceil(dram_top * 1.12)), areas, points,
                          notes)


def bandwidth_json(model: BandwidthModel) -> dict:
    """What ``tppcalc chart --plane bandwidth --json`` prints: the areas and each chip's place."""
    def number(value):
        return None if value is None else float(value)

    return {
        "plane": "bandwidth", "edition": model.view.id,
        "areas": [{"id": a.id, "kind": a.kind, "label": a.label, "tpp": [number(v) for v in a.tpp],
                   "dram_bandwidth_gbps": [number(v) for v in a.dram], "source": a.source} for a in model.areas],
        "chips": [{"id": p.key, "label": p.label, "place": p.place, "tpp": p.tpp, "dram_bandwidth_gbps": p.dram,
                   "highlighted": p.highlighted, "review_zones": list(p.zones), "tariff_bands": list(p.bands),
                   "may_be_in": list(p.maybe), "note": p.note} for p in model.points],
    }


_AREA_STYLE = {"review zone": {"facecolor": "#fbe5a6", "edgecolor": "#b07800", "hatch": None, "alpha": 0.8},
               "tariff band": {"facecolor": "#9fc5f0", "edgecolor": "#1f4e9b", "hatch": "///", "alpha": 0.7}}


def _draw_bandwidth(model: BandwidthModel):
    fig, ax, side = _bandwidth_axes(model)
    obstacles, legend = _draw_areas(fig, ax, model)
    _side_panel(side, "off the chart, or a figure unknown")
    apart = [p for p in model.points if p.place != "plot"]
    if not apart:
        _say_none(side)
    markers = []
    for n, point in enumerate(model.points):
        if point.place == "plot":
            target, xy = ax, (point.tpp, point.dram)
        else:
            target, xy = side, _side_slot(apart.index(point), len(apart))
            point = _SidePoint(point)
        markers.append((point, target, xy, _marker(target, point, xy, n)))
    _legend_as_obstacle(fig, ax, legend + _marker_legend(model.points), "upper right", obstacles)
    unlabelled = _place_labels(fig, markers, obstacles, skip_crowded=True)
    notes = list(model.notes)
    if unlabelled:
        notes.append(f"Too crowded to label ({len(unlabelled)}): "
                     + ", ".join(p.label for p in unlabelled[:12]) + (", ..." if len(unlabelled) > 12 else "")
                     + " (every chip's place is in --json).")
    _notes_text(fig, 0.07, notes)
    return fig


def _bandwidth_axes(model: BandwidthModel):
    """The figure: the plane, and the panel beside it for chips off the chart or with a figure unknown."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 7.5))
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(1, 2, width_ratios=[5.2, 2.0], left=0.07, right=0.985, top=0.92, bottom=0.2,
                            wspace=0.03)
    ax = fig.add_subplot(grid[0, 0])
    side = fig.add_subplot(grid[0, 1])
    ax.set_xlim(*model.tpp_range)
    ax.set_ylim(*model.dram_range)
    ax.set_xlabel("Total Processing Performance (TPP)")
    ax.set_ylabel("Total DRAM bandwidth (GB/s)")
    overlays = len(model.view.layers) - 1
    fig.suptitle(visible(f"TPP against total DRAM bandwidth under {model.view.layers[0]}"
                         + (f" and {overlays} overlay{'s' if overlays > 1 else ''}" if overlays else "")),
                 fontsize=11, x=0.07, ha="left", parse_math=False)
    return fig, ax, side


def _draw_areas(fig, ax, model: BandwidthModel) -> tuple[list, list]:
    """The review zone and tariff bands, labelled; the label boxes (for chip labels to avoid) and the
    legend entries of the kinds drawn."""
    from matplotlib.patches import Patch, Rectangle

    renderer = fig.canvas.get_renderer()
    obstacles = []
    legend = []
    for n, area in enumerate(model.areas):
        style = _AREA_STYLE[area.kind]
        x0 = float(area.tpp[0] or 0)
        x1 = float(area.tpp[1]) if area.tpp[1] is not None else model.tpp_range[1]
        y0 = float(area.dram[0] or 0)
        y1 = float(area.dram[1]) if area.dram[1] is not None else model.dram_range[1]
        zorder = 1 if area.kind == "review zone" else 2
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor=style["facecolor"], edgecolor=style["edgecolor"],
                               hatch=style["hatch"], alpha=style["alpha"], linewidth=1.4, zorder=zorder,
                               gid=visible(f"area-{area.id}-{n}")))
        if area.kind == "review zone":
            note = ax.text(x0 + (x1 - x0) * 0.02, y1 - (y1 - y0) * 0.02, visible(f"{area.id}\n{area.label}"),
                           ha="left", va="top", fontsize=9, color="#7a5400", fontweight="bold", zorder=3,
                           gid=visible(f"area-label-{area.id}"), parse_math=False)
        else:
            note = ax.text(x1, y1, visible(area.label), ha="left", va="bottom", fontsize=7.5, color="#1f4e9b",
                           zorder=3, gid=visible(f"area-label-{area.id}"), parse_math=False)
        box = note.get_window_extent(renderer)
        obstacles.append((box.x0, box.y0, box.x1, box.y1))
    for kind, style in _AREA_STYLE.items():
        if any(a.kind == kind for a in model.areas):
            legend.append(Patch(facecolor=style["facecolor"], edgecolor=style["edgecolor"], hatch=style["hatch"],
                                alpha=style["alpha"], label=kind))
    return obstacles, legend


@dataclass(frozen=True)
class _SidePoint:
    """A point in the side panel, as ``_place_labels`` reads one (its label with why it is apart)."""

    point: BandwidthPoint

    def __getattr__(self, name):
        if name == "place":
            return "tpp unknown"   # _place_labels' side-panel layout
        if name == "note":
            return self.point.note
        return getattr(self.point, name)


def render_bandwidth(model: BandwidthModel, fmt: str) -> bytes:
    """The bandwidth plane as PNG or SVG bytes (reproducible, as ``render``)."""
    return _rendered(_draw_bandwidth, model, fmt)


def write_bandwidth_chart(model: BandwidthModel, path: str | Path) -> Path:
    """Write the bandwidth plane to ``path`` (format from the extension), atomically."""
    from tppcalc.outputs import write_file

    path = Path(path)
    return write_file(path, render_bandwidth(model, chart_format(path)))
