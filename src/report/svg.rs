//! The report's charts, drawn as inline SVG by the project itself: a
//! horizontal bar chart with interval whiskers (driver impacts, relative
//! importance), a line chart with a confidence band (the NPS trend), a
//! waterfall (ΔNPS split into parts) and two small stacked bars.
//!
//! Why hand-drawn: the report must open offline, from a mail attachment or a
//! file share, with no script and no external URL, and print as it shows.
//! A charting library would bring JavaScript or a network fetch; these few
//! shapes need neither. Every coordinate goes through [`Scale`], so the
//! geometry is testable: bars stay inside the `viewBox`, the zero line sits
//! at the image of 0.
//!
//! Output is deterministic: coordinates are written with one decimal, and
//! nothing depends on time, randomness or hash order. Colours are presentation
//! attributes (not CSS classes only), so a chart copied out of the page keeps
//! them; classes (`bar`, `zero`, `whisker`, `band`, `point`, `suppressed`)
//! are there for the page's CSS and for tests. Every chart is
//! `role="img"` with a `<title>` and a `<desc>` that its `aria-labelledby`
//! names, and every mark has a `<title>` (a tooltip on hover, read by screen
//! readers). All text passes through [`super::escape`]. The `<svg>` carries
//! no `xmlns`: inside HTML the parser puts it in the SVG namespace, and the
//! page then holds no URL at all, not even a namespace name.

use std::fmt::Write;

use super::{escape, fmt_signed, fmt_value};

/// Colour of what pulls NPS down (detractor side).
pub const RED: &str = "#b3261e";
/// Colour of what pulls NPS up (promoter side).
pub const GREEN: &str = "#1b7a5a";
/// Colour of totals and neutral marks.
pub const BLUE: &str = "#2f5d8a";
/// Colour of passives.
pub const PASSIVE: &str = "#9aa5b1";
/// Fill of a suppressed mark (n below the minimum).
pub const GREY: &str = "#c9ced4";
/// Text colour of axis labels.
pub const AXIS: &str = "#4a5560";
/// Gridline colour.
pub const GRID: &str = "#e3e7eb";

/// A linear map from data values (`domain`) to pixels (`range`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    /// Pixel position of `v`; a degenerate domain maps everything to the
    /// start of the range.
    pub fn map(&self, v: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if (d1 - d0).abs() < f64::EPSILON {
            return r0;
        }
        r0 + (v - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Round tick positions covering `lo..=hi`: steps of 1, 2 or 5 times a power
/// of ten, about `target` of them. Returns the widened domain (first and last
/// tick) and the ticks. A degenerate or non-finite input gives `-1..1`
/// around the value.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> ((f64, f64), Vec<f64>) {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(hi), lo.max(hi))
    } else {
        (-1.0, 1.0)
    };
    if hi - lo < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let count = ((last - first) / step).round() as usize;
    // Rounded to the step's decimals, so labels read 0.3, not
    // 0.30000000000000004, and never -0.
    let decimals = (-step.log10().floor()).max(0.0) as i32;
    let unit = 10f64.powi(decimals);
    let ticks = (0..=count)
        .map(|i| {
            let t = ((first + i as f64 * step) * unit).round() / unit;
            if t == 0.0 {
                0.0
            } else {
                t
            }
        })
        .collect();
    ((first, last), ticks)
}

/// Axis label of a tick: no decimals when every tick is a whole number
/// (`−20`, `0`, `20`), else as a figure (`0.5`).
pub fn tick_label(t: f64, ticks: &[f64]) -> String {
    if ticks.iter().all(|v| v.fract() == 0.0) {
        let s = format!("{t:.0}");
        match s.strip_prefix('-') {
            Some("0") => "0".into(),
            Some(rest) => format!("\u{2212}{rest}"),
            None => s,
        }
    } else {
        fmt_value(Some(t))
    }
}

/// A number written for an SVG attribute: one decimal, never `-0.0`.
fn n(v: f64) -> String {
    let s = format!("{v:.1}");
    if s == "-0.0" {
        "0.0".into()
    } else {
        s
    }
}

/// Text shortened to `max` characters with an ellipsis (by characters, so
/// multi-byte text is never cut inside a code point).
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Text broken into lines of at most `max` characters, at spaces; a word
/// longer than a line is split across lines. Nothing is left out and no
/// ellipsis is added, so a label is always readable whole.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line: Vec<char> = Vec::new();
    for word in s.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        if !line.is_empty() && line.len() + 1 + word.len() > max {
            lines.push(std::mem::take(&mut line).into_iter().collect());
        }
        // Only an empty line gets here with a word longer than a line.
        while word.len() > max {
            let rest = word.split_off(max);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.extend(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line.into_iter().collect());
    }
    lines
}

/// A `<text>` element's content: one line as is, several as `<tspan>`s
/// 14 px apart, the block centred on the element's `y`.
fn text_lines(x: f64, lines: &[String]) -> String {
    if lines.len() <= 1 {
        return escape(lines.first().map_or("", String::as_str));
    }
    let mut out = String::new();
    let first = -(lines.len() as f64 - 1.0) * LINE_GAP / 2.0;
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            out,
            r#"<tspan x="{}" dy="{}">{}</tspan>"#,
            n(x),
            n(if i == 0 { first } else { LINE_GAP }),
            escape(l)
        );
    }
    out
}

/// Distance between two lines of a wrapped label.
const LINE_GAP: f64 = 14.0;
/// Characters per line of a label left of a bar (the label column is
/// [`BAR_LABEL_W`] wide; about 7 px a character at 12 px).
const LABEL_CHARS: usize = 26;

/// Height of a row whose label has `lines` lines.
fn row_height(lines: usize) -> f64 {
    BAR_ROW_H.max(lines as f64 * LINE_GAP + 10.0)
}

/// Opening `<svg>` tag with its accessible title and description.
fn open(out: &mut String, id: &str, class: &str, w: f64, h: f64, title: &str, desc: &str) {
    let id = escape(id);
    let _ = write!(
        out,
        r#"<svg id="{id}" class="chart {class}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-labelledby="{id}-t {id}-d" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(desc),
        w = n(w),
        h = n(h),
    );
}

/// One bar of [`bar_chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Category label (left of the bar).
    pub label: String,
    /// Value; `None` draws no bar (the row stays, with "—").
    pub value: Option<f64>,
    /// Interval drawn as a whisker.
    pub interval: Option<(f64, f64)>,
    /// Drawn in grey with `suppressed_note` beside the value.
    pub suppressed: bool,
    /// Drawn lighter: the interval includes 0 (not a finding).
    pub faint: bool,
    /// Tooltip of the row.
    pub tooltip: String,
}

/// A horizontal bar chart: one row per [`Bar`], a vertical zero line, round
/// ticks below, the value written in a column on the right.
#[derive(Clone, Debug)]
pub struct BarChart<'a> {
    /// Unique within the page (used for the ARIA ids).
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub bars: &'a [Bar],
    /// Fill of bars with a negative value.
    pub negative_fill: &'a str,
    /// Fill of bars with a positive value.
    pub positive_fill: &'a str,
    /// Values that must be inside the axis besides the data and 0 (so two
    /// charts side by side can share one extent).
    pub extent: &'a [f64],
    /// Written after a suppressed bar's value, e.g. "n < 30".
    pub suppressed_note: &'a str,
    /// Values as percentages of 1 (0.25 → "25%") instead of points.
    pub percent: bool,
}

/// Layout constants of [`bar_chart`].
pub const BAR_WIDTH: f64 = 560.0;
const BAR_LABEL_W: f64 = 200.0;
const BAR_ROW_H: f64 = 26.0;
const BAR_H: f64 = 14.0;
const BAR_TOP: f64 = 6.0;
const BAR_AXIS_H: f64 = 24.0;

/// The x scale of a bar chart, from its data (exposed for tests and for
/// charts that must line up).
pub fn bar_scale(c: &BarChart) -> (Scale, Vec<f64>) {
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    let mut take = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for b in c.bars {
        if let Some(v) = b.value {
            take(v);
        }
        if let Some((l, h)) = b.interval {
            take(l);
            take(h);
        }
    }
    for &e in c.extent {
        take(e);
    }
    let ((d0, d1), ticks) = nice_ticks(lo, hi, 5);
    let right = bar_right_pad(c);
    (
        Scale {
            domain: (d0, d1),
            range: (BAR_LABEL_W, BAR_WIDTH - right),
        },
        ticks,
    )
}

fn bar_right_pad(c: &BarChart) -> f64 {
    if c.bars.iter().any(|b| b.suppressed) {
        112.0
    } else {
        60.0
    }
}

fn bar_text(c: &BarChart, v: Option<f64>) -> String {
    if c.percent {
        super::fmt_pct(v)
    } else {
        fmt_signed(v)
    }
}

/// Draws `c` as an `<svg>` element.
pub fn bar_chart(c: &BarChart) -> String {
    let (x, ticks) = bar_scale(c);
    let labels: Vec<Vec<String>> = c.bars.iter().map(|b| wrap(&b.label, LABEL_CHARS)).collect();
    let heights: Vec<f64> = labels.iter().map(|l| row_height(l.len())).collect();
    let plot_h = if c.bars.is_empty() {
        BAR_ROW_H
    } else {
        heights.iter().sum()
    };
    let h = BAR_TOP + plot_h + BAR_AXIS_H;
    let mut s = String::new();
    open(&mut s, c.id, "bars", BAR_WIDTH, h, c.title, c.desc);
    let (y0, y1) = (BAR_TOP, BAR_TOP + plot_h);
    // Grid and tick labels.
    for &t in &ticks {
        let tx = n(x.map(t));
        let label = if c.percent {
            super::fmt_pct(Some(t))
        } else {
            tick_label(t, &ticks)
        };
        let _ = write!(
            s,
            r#"<line class="grid" x1="{tx}" y1="{}" x2="{tx}" y2="{}" stroke="{GRID}"/><text x="{tx}" y="{}" text-anchor="middle" fill="{AXIS}">{}</text>"#,
            n(y0),
            n(y1),
            n(y1 + 16.0),
            escape(&label)
        );
    }
    if c.bars.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{AXIS}">No data</text>"#,
            n(BAR_WIDTH / 2.0),
            n(y0 + BAR_ROW_H / 2.0 + 4.0)
        );
    }
    let x0 = x.map(0.0);
    let mut top = y0;
    for (i, b) in c.bars.iter().enumerate() {
        let mid = top + heights[i] / 2.0;
        top += heights[i];
        let fill = match b.value {
            _ if b.suppressed => GREY,
            Some(v) if v < 0.0 => c.negative_fill,
            _ => c.positive_fill,
        };
        let mut class = String::from("row");
        if b.suppressed {
            class.push_str(" suppressed");
        }
        if b.faint {
            class.push_str(" faint");
        }
        let opacity = if b.faint && !b.suppressed {
            r#" fill-opacity="0.45""#
        } else {
            ""
        };
        let text_fill = if b.suppressed { "#7a848e" } else { "#1f2933" };
        let _ = write!(
            s,
            r#"<g class="{class}"><title>{}</title><text class="label" x="{}" y="{}" text-anchor="end" fill="{text_fill}">{}</text>"#,
            escape(&b.tooltip),
            n(BAR_LABEL_W - 8.0),
            n(mid + 4.0),
            text_lines(BAR_LABEL_W - 8.0, &labels[i]),
        );
        if let Some(v) = b.value.filter(|v| v.is_finite()) {
            let xv = x.map(v);
            let _ = write!(
                s,
                r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{fill}"{opacity}/>"#,
                n(x0.min(xv)),
                n(mid - BAR_H / 2.0),
                n((xv - x0).abs()),
                n(BAR_H),
            );
        }
        if let Some((lo, hi)) = b.interval.filter(|(l, h)| l.is_finite() && h.is_finite()) {
            let (xl, xh) = (n(x.map(lo)), n(x.map(hi)));
            let (c0, c1) = (n(mid - 5.0), n(mid + 5.0));
            let _ = write!(
                s,
                r##"<g class="whisker" stroke="#1f2933" stroke-width="1.2"><line x1="{xl}" y1="{m}" x2="{xh}" y2="{m}"/><line x1="{xl}" y1="{c0}" x2="{xl}" y2="{c1}"/><line x1="{xh}" y1="{c0}" x2="{xh}" y2="{c1}"/></g>"##,
                m = n(mid),
            );
        }
        let mut value = bar_text(c, b.value);
        if b.suppressed {
            value = format!("{value}  {}", c.suppressed_note);
        }
        let _ = write!(
            s,
            r#"<text class="value" x="{}" y="{}" text-anchor="end" fill="{text_fill}">{}</text></g>"#,
            n(BAR_WIDTH - 4.0),
            n(mid + 4.0),
            escape(&value)
        );
    }
    let _ = write!(
        s,
        r##"<line class="zero" x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#1f2933" stroke-width="1.5"/></svg>"##,
        n(y0 - 2.0),
        n(y1 + 2.0),
        x = n(x0)
    );
    s
}

/// One period of [`line_chart`].
#[derive(Clone, Debug, PartialEq)]
pub struct LinePoint {
    pub label: String,
    /// `None` leaves a gap in the line.
    pub value: Option<f64>,
    /// Drawn as the band.
    pub interval: Option<(f64, f64)>,
    /// Hollow grey marker.
    pub suppressed: bool,
    pub tooltip: String,
}

/// A line chart over evenly spaced periods with a shaded interval band.
#[derive(Clone, Debug)]
pub struct LineChart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub points: &'a [LinePoint],
    /// The axis never leaves this range (NPS: −100..100).
    pub clamp: (f64, f64),
}

/// Layout constants of [`line_chart`].
pub const LINE_WIDTH: f64 = 960.0;
/// Height of [`line_chart`].
pub const LINE_HEIGHT: f64 = 280.0;
const LINE_LEFT: f64 = 44.0;
const LINE_RIGHT: f64 = 16.0;
const LINE_TOP: f64 = 12.0;
const LINE_BOTTOM: f64 = 36.0;

/// The scales of a line chart: x per point index (centre of its slot), y.
pub fn line_scales(c: &LineChart) -> (Scale, Scale, Vec<f64>) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in c.points {
        for v in p
            .value
            .into_iter()
            .chain(p.interval.into_iter().flat_map(|(a, b)| [a, b]))
        {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (-10.0, 10.0);
    }
    let ((mut d0, mut d1), ticks) = nice_ticks(lo, hi, 5);
    d0 = d0.max(c.clamp.0);
    d1 = d1.min(c.clamp.1);
    let ticks = ticks.into_iter().filter(|t| *t >= d0 && *t <= d1).collect();
    let slots = c.points.len().max(1) as f64;
    let plot_w = LINE_WIDTH - LINE_LEFT - LINE_RIGHT;
    let x = Scale {
        domain: (-0.5, slots - 0.5),
        range: (LINE_LEFT, LINE_LEFT + plot_w),
    };
    let y = Scale {
        domain: (d0, d1),
        range: (LINE_HEIGHT - LINE_BOTTOM, LINE_TOP),
    };
    (x, y, ticks)
}

/// Runs of consecutive indices for which `f` holds.
fn runs<T>(items: &[T], f: impl Fn(&T) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, it) in items.iter().enumerate() {
        match (f(it), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..items.len());
    }
    out
}

/// Draws `c` as an `<svg>` element.
pub fn line_chart(c: &LineChart) -> String {
    let (x, y, ticks) = line_scales(c);
    let mut s = String::new();
    open(
        &mut s,
        c.id,
        "line",
        LINE_WIDTH,
        LINE_HEIGHT,
        c.title,
        c.desc,
    );
    let (px0, px1) = x.range;
    horizontal_grid(&mut s, &y, &ticks, px0, px1);
    if y.domain.0 < 0.0 && y.domain.1 > 0.0 {
        let zy = n(y.map(0.0));
        let _ = write!(
            s,
            r##"<line class="zero" x1="{}" y1="{zy}" x2="{}" y2="{zy}" stroke="#1f2933" stroke-dasharray="4 3"/>"##,
            n(px0),
            n(px1)
        );
    }
    let pts = c.points;
    confidence_bands(&mut s, pts, &x, &y);
    value_lines(&mut s, pts, &x, &y);
    period_marks(&mut s, pts, &x, &y);
    if pts.is_empty() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle" fill="{AXIS}">No data</text>"#,
            n(LINE_WIDTH / 2.0),
            n(LINE_HEIGHT / 2.0)
        );
    }
    s.push_str("</svg>");
    s
}

/// Gridlines at `ticks` across `px0..px1`, each labelled left of `px0`.
fn horizontal_grid(s: &mut String, y: &Scale, ticks: &[f64], px0: f64, px1: f64) {
    for &t in ticks {
        let ty = n(y.map(t));
        let _ = write!(
            s,
            r#"<line class="grid" x1="{}" y1="{ty}" x2="{}" y2="{ty}" stroke="{GRID}"/><text x="{}" y="{}" text-anchor="end" fill="{AXIS}">{}</text>"#,
            n(px0),
            n(px1),
            n(px0 - 6.0),
            n(y.map(t) + 4.0),
            escape(&tick_label(t, ticks))
        );
    }
}

/// The interval band of each run of consecutive points with a finite
/// interval; a lone point's interval as a vertical whisker.
fn confidence_bands(s: &mut String, pts: &[LinePoint], x: &Scale, y: &Scale) {
    let finite = |p: &LinePoint| {
        p.interval
            .is_some_and(|(a, b)| a.is_finite() && b.is_finite())
    };
    for r in runs(pts, finite) {
        let mut d = String::new();
        for i in r.clone() {
            let (_, hi) = pts[i].interval.unwrap_or_default();
            let _ = write!(
                d,
                "{}{} {} ",
                if i == r.start { "M" } else { "L" },
                n(x.map(i as f64)),
                n(y.map(hi))
            );
        }
        for i in r.clone().rev() {
            let (lo, _) = pts[i].interval.unwrap_or_default();
            let _ = write!(d, "L{} {} ", n(x.map(i as f64)), n(y.map(lo)));
        }
        d.push('Z');
        let _ = write!(
            s,
            r#"<path class="band" d="{d}" fill="{BLUE}" fill-opacity="0.16" stroke="none"/>"#
        );
        if r.len() == 1 {
            // A lone period: its interval as a vertical whisker.
            let i = r.start;
            let (lo, hi) = pts[i].interval.unwrap_or_default();
            let px = n(x.map(i as f64));
            let _ = write!(
                s,
                r#"<line class="band" x1="{px}" y1="{}" x2="{px}" y2="{}" stroke="{BLUE}" stroke-opacity="0.5" stroke-width="6"/>"#,
                n(y.map(lo)),
                n(y.map(hi))
            );
        }
    }
}

/// A line through each run of at least two consecutive finite values.
fn value_lines(s: &mut String, pts: &[LinePoint], x: &Scale, y: &Scale) {
    for r in runs(pts, |p| p.value.is_some_and(f64::is_finite)) {
        if r.len() < 2 {
            continue;
        }
        let mut d = String::new();
        for i in r.clone() {
            let _ = write!(
                d,
                "{}{} {} ",
                if i == r.start { "M" } else { "L" },
                n(x.map(i as f64)),
                n(y.map(pts[i].value.unwrap_or_default()))
            );
        }
        let _ = write!(
            s,
            r#"<path class="line" d="{}" fill="none" stroke="{BLUE}" stroke-width="2"/>"#,
            d.trim_end()
        );
    }
}

/// Each point with a finite value as a circle with its tooltip, and the
/// period labels under the axis, as many as fit.
fn period_marks(s: &mut String, pts: &[LinePoint], x: &Scale, y: &Scale) {
    // As many period labels as fit side by side (about 7 px a character
    // plus a gap), evenly spread.
    let longest = pts
        .iter()
        .map(|p| p.label.chars().count())
        .max()
        .unwrap_or(1);
    let fit = ((x.range.1 - x.range.0) / (longest as f64 * 7.0 + 14.0)).max(1.0) as usize;
    let every = pts.len().div_ceil(fit).max(1);
    for (i, p) in pts.iter().enumerate() {
        let px = x.map(i as f64);
        if let Some(v) = p.value.filter(|v| v.is_finite()) {
            let (fill, stroke, class) = if p.suppressed {
                ("#ffffff", "#8a949e", "point suppressed")
            } else {
                (BLUE, "#ffffff", "point")
            };
            let _ = write!(
                s,
                r#"<circle class="{class}" cx="{}" cy="{}" r="4" fill="{fill}" stroke="{stroke}" stroke-width="1.5"><title>{}</title></circle>"#,
                n(px),
                n(y.map(v)),
                escape(&p.tooltip)
            );
        }
        if i % every == 0 {
            let _ = write!(
                s,
                r#"<text class="tick" x="{}" y="{}" text-anchor="middle" fill="{AXIS}">{}</text>"#,
                n(px),
                n(LINE_HEIGHT - LINE_BOTTOM + 18.0),
                escape(&p.label)
            );
        }
    }
}

/// One step of a [`waterfall`].
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub label: String,
    pub value: f64,
}

/// A waterfall: a start level, signed parts, an end level, drawn as
/// horizontal rows (one per step, top to bottom) so that every label reads
/// whole, wrapped left of its bar like the bar chart's.
#[derive(Clone, Debug)]
pub struct Waterfall<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    pub start: Step,
    pub parts: &'a [Step],
    pub end: Step,
}

/// Layout constants of [`waterfall`].
pub const WF_WIDTH: f64 = 760.0;
const WF_LABEL_W: f64 = 200.0;
const WF_RIGHT: f64 = 64.0;
const WF_TOP: f64 = 6.0;
const WF_AXIS_H: f64 = 24.0;

/// The labels of a waterfall's rows, wrapped, top to bottom.
fn waterfall_labels(w: &Waterfall) -> Vec<Vec<String>> {
    std::iter::once(&w.start)
        .chain(w.parts)
        .chain(std::iter::once(&w.end))
        .map(|s| wrap(&s.label, LABEL_CHARS))
        .collect()
}

/// Width, height and x scale of a waterfall, and its ticks. The axis covers
/// every running level; it includes 0 only when 0 is near the data, so that
/// small parts stay visible: when it does not, the total bars start at the
/// left end of the axis (the caller says so in words).
pub fn waterfall_scale(w: &Waterfall) -> (f64, f64, Scale, Vec<f64>) {
    let mut levels = vec![w.start.value, w.end.value];
    let mut run = w.start.value;
    for p in w.parts {
        run += p.value;
        levels.push(run);
    }
    let finite = levels.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let span = (hi - lo).max(1.0);
    if lo > 0.0 && lo <= span {
        lo = 0.0;
    }
    if hi < 0.0 && -hi <= span {
        hi = 0.0;
    }
    let pad = (hi - lo).max(1.0) * 0.1;
    let (lo, hi) = (
        if lo == 0.0 { 0.0 } else { lo - pad },
        if hi == 0.0 { 0.0 } else { hi + pad },
    );
    let ((d0, d1), ticks) = nice_ticks(lo, hi, 5);
    let (d0, d1) = (d0.max(-100.0), d1.min(100.0));
    let ticks = ticks.into_iter().filter(|t| *t >= d0 && *t <= d1).collect();
    let rows: f64 = waterfall_labels(w)
        .iter()
        .map(|l| row_height(l.len()))
        .sum();
    let height = WF_TOP + rows + WF_AXIS_H;
    let x = Scale {
        domain: (d0, d1),
        range: (WF_LABEL_W, WF_WIDTH - WF_RIGHT),
    };
    (WF_WIDTH, height, x, ticks)
}

/// Draws `w` as an `<svg>` element.
pub fn waterfall(w: &Waterfall) -> String {
    let (width, height, x, ticks) = waterfall_scale(w);
    let mut s = String::new();
    open(&mut s, w.id, "waterfall", width, height, w.title, w.desc);
    let (y0, y1) = (WF_TOP, height - WF_AXIS_H);
    for &t in &ticks {
        let tx = n(x.map(t));
        let _ = write!(
            s,
            r#"<line class="grid" x1="{tx}" y1="{}" x2="{tx}" y2="{}" stroke="{GRID}"/><text x="{tx}" y="{}" text-anchor="middle" fill="{AXIS}">{}</text>"#,
            n(y0),
            n(y1),
            n(y1 + 16.0),
            escape(&tick_label(t, &ticks))
        );
    }
    let base = if x.domain.0 <= 0.0 && x.domain.1 >= 0.0 {
        0.0
    } else if x.domain.0 > 0.0 {
        x.domain.0
    } else {
        x.domain.1
    };
    let labels = waterfall_labels(w);
    let mut top = y0;
    let mut level = w.start.value;
    let mut prev_level_mid: Option<(f64, f64)> = None;
    let steps = std::iter::once((&w.start, true))
        .chain(w.parts.iter().map(|p| (p, false)))
        .chain(std::iter::once((&w.end, true)));
    for (i, (step, total)) in steps.enumerate() {
        let h = row_height(labels[i].len());
        let mid = top + h / 2.0;
        let (from, to, fill, class, text, tip) = if total {
            (
                base,
                step.value,
                BLUE,
                "total",
                fmt_value(Some(step.value)),
                format!("{}: NPS {}", step.label, fmt_value(Some(step.value))),
            )
        } else {
            let next = level + step.value;
            let (fill, class) = if step.value < 0.0 {
                (RED, "down")
            } else {
                (GREEN, "up")
            };
            let out = (
                level,
                next,
                fill,
                class,
                fmt_signed(Some(step.value)),
                format!("{}: {} points", step.label, fmt_signed(Some(step.value))),
            );
            level = next;
            out
        };
        // A dashed connector from the previous row's running level.
        if let Some((lx, ly)) = prev_level_mid {
            let _ = write!(
                s,
                r##"<line class="connector" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#6b7680" stroke-dasharray="2 2"/>"##,
                n(lx),
                n(ly + BAR_H / 2.0),
                n(lx),
                n(mid - BAR_H / 2.0)
            );
        }
        let (xa, xb) = (x.map(from), x.map(to));
        let _ = write!(
            s,
            r##"<g class="step"><title>{}</title><text class="label" x="{}" y="{}" text-anchor="end" fill="#1f2933">{}</text><rect class="bar {class}" x="{}" y="{}" width="{}" height="{}" fill="{fill}"/><text class="value" x="{}" y="{}" text-anchor="end" fill="#1f2933">{}</text></g>"##,
            escape(&tip),
            n(WF_LABEL_W - 8.0),
            n(mid + 4.0),
            text_lines(WF_LABEL_W - 8.0, &labels[i]),
            n(xa.min(xb)),
            n(mid - BAR_H / 2.0),
            n((xa - xb).abs().max(0.5)),
            n(BAR_H),
            n(WF_WIDTH - 4.0),
            n(mid + 4.0),
            escape(&text),
        );
        prev_level_mid = Some((x.map(if total { step.value } else { level }), mid));
        top += h;
    }
    if x.domain.0 <= 0.0 && x.domain.1 >= 0.0 {
        let zx = n(x.map(0.0));
        let _ = write!(
            s,
            r##"<line class="zero" x1="{zx}" y1="{}" x2="{zx}" y2="{}" stroke="#1f2933" stroke-width="1.2"/>"##,
            n(y0 - 2.0),
            n(y1 + 2.0)
        );
    }
    s.push_str("</svg>");
    s
}

/// One segment of a [`stacked_bar`].
#[derive(Clone, Debug)]
pub struct Segment<'a> {
    pub label: &'a str,
    pub count: u64,
    pub fill: &'a str,
}

/// A thin 100% stacked bar (promoters / passives / detractors; negative /
/// neutral / positive mentions). Shares below 8% get no text inside.
pub fn stacked_bar(id: &str, title: &str, parts: &[Segment], width: f64, height: f64) -> String {
    let total: u64 = parts.iter().map(|p| p.count).sum();
    let desc = parts
        .iter()
        .map(|p| format!("{} {}", p.label, super::fmt_int(p.count)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = String::new();
    open(&mut s, id, "stacked", width, height, title, &desc);
    if total == 0 {
        let _ = write!(
            s,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="{GRID}"/></svg>"#,
            n(width),
            n(height)
        );
        return s;
    }
    let x = Scale {
        domain: (0.0, total as f64),
        range: (0.0, width),
    };
    let mut acc = 0u64;
    for p in parts {
        let (a, b) = (x.map(acc as f64), x.map((acc + p.count) as f64));
        acc += p.count;
        let share = p.count as f64 / total as f64;
        let _ = write!(
            s,
            r#"<rect class="part" x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}: {} ({})</title></rect>"#,
            n(a),
            n(b - a),
            n(height),
            p.fill,
            escape(p.label),
            super::fmt_int(p.count),
            super::fmt_pct(Some(share))
        );
        if share >= 0.08 && height >= 14.0 {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#ffffff" font-weight="600">{}</text>"##,
                n((a + b) / 2.0),
                n(height / 2.0 + 4.0),
                escape(&super::fmt_pct(Some(share)))
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `name="number"` attribute of every tag that contains `needle`.
    fn attrs(svg: &str, needle: &str, name: &str) -> Vec<f64> {
        svg.split('<')
            .filter(|tag| tag.contains(needle))
            .filter_map(|tag| {
                let key = format!(" {name}=\"");
                let at = tag.find(&key)? + key.len();
                let end = tag[at..].find('"')? + at;
                tag[at..end].parse().ok()
            })
            .collect()
    }

    fn view_box(svg: &str) -> (f64, f64) {
        let at = svg.find("viewBox=\"0 0 ").unwrap() + "viewBox=\"0 0 ".len();
        let end = svg[at..].find('"').unwrap() + at;
        let mut it = svg[at..end].split(' ').map(|v| v.parse::<f64>().unwrap());
        (it.next().unwrap(), it.next().unwrap())
    }

    fn bar(label: &str, v: f64, lo: f64, hi: f64) -> Bar {
        Bar {
            label: label.into(),
            value: Some(v),
            interval: Some((lo, hi)),
            suppressed: false,
            faint: false,
            tooltip: label.into(),
        }
    }

    #[test]
    fn nice_ticks_are_round_and_cover_the_range() {
        let ((a, b), t) = nice_ticks(-7.3, 12.1, 5);
        // Range 19.4 / 5 = 3.88 → step 5: −10, −5, 0, 5, 10, 15.
        assert_eq!((a, b), (-10.0, 15.0));
        assert_eq!(t, vec![-10.0, -5.0, 0.0, 5.0, 10.0, 15.0]);
        let ((a, b), t) = nice_ticks(0.0, 0.0, 5);
        assert!(a <= 0.0 && b >= 0.0 && t.len() >= 2);
        let ((a, b), _) = nice_ticks(f64::NAN, 3.0, 5);
        assert_eq!((a, b), (-1.0, 1.0));
        // 0.1 steps print without float noise.
        let (_, t) = nice_ticks(0.0, 0.5, 5);
        assert!(t.iter().all(|v| format!("{v}").len() <= 4), "{t:?}");
    }

    #[test]
    fn scale_maps_ends_and_middle() {
        let s = Scale {
            domain: (-10.0, 10.0),
            range: (100.0, 300.0),
        };
        assert_eq!(s.map(-10.0), 100.0);
        assert_eq!(s.map(10.0), 300.0);
        assert_eq!(s.map(0.0), 200.0);
        let flat = Scale {
            domain: (1.0, 1.0),
            range: (5.0, 9.0),
        };
        assert_eq!(flat.map(3.0), 5.0);
    }

    #[test]
    fn bars_stay_inside_the_view_box_and_start_at_zero() {
        let bars = vec![
            bar("wait", -12.0, -16.0, -8.0),
            bar("transfer", -3.5, -6.0, -1.0),
            Bar {
                suppressed: true,
                ..bar("billing", -20.0, -45.0, 5.0)
            },
        ];
        let c = BarChart {
            id: "t",
            title: "Impacts",
            desc: "d",
            bars: &bars,
            negative_fill: RED,
            positive_fill: GREEN,
            extent: &[],
            suppressed_note: "n < 30",
            percent: false,
        };
        let svg = bar_chart(&c);
        let (w, h) = view_box(&svg);
        let xs = attrs(&svg, "class=\"bar\"", "x");
        let ws = attrs(&svg, "class=\"bar\"", "width");
        let ys = attrs(&svg, "class=\"bar\"", "y");
        assert_eq!(xs.len(), 3);
        // Domain: −45..5 → ticks −50..10 (step 10); zero at
        // 200 + 50/60 · (560 − 112 − 200) = 200 + 206.67 = 406.7.
        let zero = attrs(&svg, "class=\"zero\"", "x1");
        assert_eq!(zero.len(), 1);
        assert!((zero[0] - 406.7).abs() < 0.06, "{zero:?}");
        for ((x, wd), y) in xs.iter().zip(&ws).zip(&ys) {
            assert!(*x >= 0.0 && x + wd <= w && *y >= 0.0 && *y <= h);
            // Negative bars end at the zero line.
            assert!((x + wd - zero[0]).abs() < 0.15, "bar {x}+{wd}");
        }
        // wait (−12) is longer than transfer (−3.5): 12/60·248 = 49.6 vs 14.5.
        assert!(
            (ws[0] - 49.6).abs() < 0.15 && (ws[1] - 14.5).abs() < 0.15,
            "{ws:?}"
        );
        // Whole-number ticks are labelled without decimals.
        assert!(svg.contains(">\u{2212}50</text>") && svg.contains(">0</text>"));
        // Whiskers inside too, the suppressed bar grey with its note.
        let whiskers = attrs(&svg, "line x1", "x1");
        assert!(whiskers.len() >= 9, "{whiskers:?}");
        for x in whiskers {
            assert!((0.0..=w).contains(&x));
        }
        assert!(svg.contains(&format!("fill=\"{GREY}\"")));
        assert!(svg.contains("n &lt; 30"));
        assert!(svg.contains("role=\"img\"") && svg.contains("<title id=\"t-t\">Impacts</title>"));
    }

    #[test]
    fn positive_bars_start_at_zero_on_the_left() {
        let bars = vec![bar("friendly", 8.0, 5.0, 11.0)];
        let c = BarChart {
            id: "p",
            title: "t",
            desc: "d",
            bars: &bars,
            negative_fill: RED,
            positive_fill: GREEN,
            extent: &[-20.0],
            suppressed_note: "",
            percent: false,
        };
        let svg = bar_chart(&c);
        let (sc, _) = bar_scale(&c);
        let zero = attrs(&svg, "class=\"zero\"", "x1")[0];
        assert!((zero - sc.map(0.0)).abs() < 0.06);
        let x = attrs(&svg, "class=\"bar\"", "x")[0];
        assert!((x - zero).abs() < 0.06);
        assert!(svg.contains(&format!("fill=\"{GREEN}\"")));
        // The extent widened the axis to −20.
        assert!(sc.domain.0 <= -20.0);
    }

    #[test]
    fn empty_bar_chart_is_valid() {
        let c = BarChart {
            id: "e",
            title: "t",
            desc: "d",
            bars: &[],
            negative_fill: RED,
            positive_fill: GREEN,
            extent: &[],
            suppressed_note: "",
            percent: false,
        };
        let svg = bar_chart(&c);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("No data"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn line_chart_band_and_points_inside() {
        let pts: Vec<LinePoint> = (0..6)
            .map(|i| LinePoint {
                label: format!("2026-W{:02}", i + 10),
                value: if i == 3 { None } else { Some(10.0 + i as f64) },
                interval: if i == 3 {
                    None
                } else {
                    Some((i as f64 - 5.0, 25.0 + i as f64))
                },
                suppressed: i == 5,
                tooltip: String::new(),
            })
            .collect();
        let c = LineChart {
            id: "l",
            title: "t",
            desc: "d",
            points: &pts,
            clamp: (-100.0, 100.0),
        };
        let svg = line_chart(&c);
        let (w, h) = view_box(&svg);
        let cx = attrs(&svg, "circle class", "cx");
        let cy = attrs(&svg, "circle class", "cy");
        assert_eq!(cx.len(), 5, "the gap has no point");
        for (x, y) in cx.iter().zip(&cy) {
            assert!((0.0..=w).contains(x) && (0.0..=h).contains(y));
        }
        // Two runs of intervals → two band paths; line only over the run of 3.
        assert_eq!(svg.matches("<path class=\"band\"").count(), 2);
        assert_eq!(svg.matches("<path class=\"line\"").count(), 2);
        assert_eq!(svg.matches("point suppressed").count(), 1);
        // Domain −5..30 contains 0 → a zero line at y(0).
        let (_, y, _) = line_scales(&c);
        let zy = attrs(&svg, "class=\"zero\"", "y1");
        assert_eq!(zy.len(), 1);
        assert!((zy[0] - y.map(0.0)).abs() < 0.06);
        // Higher NPS is drawn higher up.
        assert!(cy[0] > cy[1]);
    }

    #[test]
    fn line_chart_without_zero_in_range_has_no_zero_line() {
        let pts = vec![
            LinePoint {
                label: "a".into(),
                value: Some(40.0),
                interval: Some((35.0, 45.0)),
                suppressed: false,
                tooltip: String::new(),
            },
            LinePoint {
                label: "b".into(),
                value: Some(42.0),
                interval: Some((37.0, 47.0)),
                suppressed: false,
                tooltip: String::new(),
            },
        ];
        let svg = line_chart(&LineChart {
            id: "l",
            title: "t",
            desc: "d",
            points: &pts,
            clamp: (-100.0, 100.0),
        });
        assert!(!svg.contains("class=\"zero\""));
    }

    #[test]
    fn waterfall_parts_stack_from_start_to_end() {
        let parts = vec![
            Step {
                label: "wait".into(),
                value: -4.0,
            },
            Step {
                label: "friendly".into(),
                value: 1.5,
            },
            Step {
                label: "remainder".into(),
                value: 0.5,
            },
        ];
        let wf = Waterfall {
            id: "w",
            title: "t",
            desc: "d",
            start: Step {
                label: "2026-10".into(),
                value: 20.0,
            },
            parts: &parts,
            end: Step {
                label: "2026-11".into(),
                value: 18.0,
            },
        };
        let svg = waterfall(&wf);
        let (w, h, x, _) = waterfall_scale(&wf);
        assert_eq!(view_box(&svg), (w, h));
        let ys = attrs(&svg, "class=\"bar", "y");
        let hs = attrs(&svg, "class=\"bar", "height");
        let xs = attrs(&svg, "class=\"bar", "x");
        let ws = attrs(&svg, "class=\"bar", "width");
        assert_eq!(xs.len(), 5);
        for i in 0..5 {
            assert!(xs[i] >= 0.0 && xs[i] + ws[i] <= w && ys[i] >= 0.0 && ys[i] + hs[i] <= h);
        }
        // Rows top to bottom.
        assert!(ys.windows(2).all(|p| p[0] < p[1]), "{ys:?}");
        // Levels 20, 16, 17.5, 18: lowest 16 is more than the span 4 above 0,
        // so the axis leaves 0 out and the totals start at its left end; the
        // first part spans 20 → 16.
        assert!(x.domain.0 > 0.0);
        assert!(!svg.contains("class=\"zero\""));
        assert!((xs[1] - x.map(16.0)).abs() < 0.06);
        assert!((ws[1] - (x.map(20.0) - x.map(16.0))).abs() < 0.1);
        // Down part red, up part green.
        assert!(svg.contains(&format!("class=\"bar down\" x=\"{:.1}\"", xs[1])));
        assert!(svg.contains("class=\"bar up\""));
    }

    #[test]
    fn waterfall_near_zero_has_zero_line() {
        let parts = vec![Step {
            label: "x".into(),
            value: -6.0,
        }];
        let wf = Waterfall {
            id: "w",
            title: "t",
            desc: "d",
            start: Step {
                label: "a".into(),
                value: 2.0,
            },
            parts: &parts,
            end: Step {
                label: "b".into(),
                value: -4.0,
            },
        };
        let svg = waterfall(&wf);
        let (_, _, x, _) = waterfall_scale(&wf);
        let zx = attrs(&svg, "class=\"zero\"", "x1");
        assert_eq!(zx.len(), 1);
        assert!((zx[0] - x.map(0.0)).abs() < 0.06);
    }

    #[test]
    fn long_labels_wrap_whole() {
        let lines = wrap(
            "Erreichbarkeit der telefonischen Kundenbetreuung am Wochenende",
            26,
        );
        assert!(lines.iter().all(|l| l.chars().count() <= 26), "{lines:?}");
        assert_eq!(
            lines.join(" "),
            "Erreichbarkeit der telefonischen Kundenbetreuung am Wochenende"
        );
        assert!(!lines.concat().contains('…'));
        // A word longer than a line is split, not cut.
        let long = wrap("Donaudampfschifffahrtsgesellschaftskapitän", 10);
        assert_eq!(long.concat(), "Donaudampfschifffahrtsgesellschaftskapitän");
        assert!(long.iter().all(|l| l.chars().count() <= 10));
        assert_eq!(wrap("", 5), vec![String::new()]);
        // In a chart the lines are tspans and the row grows.
        let bars = [bar(
            "Erreichbarkeit der telefonischen Kundenbetreuung",
            -5.0,
            -7.0,
            -3.0,
        )];
        let svg = bar_chart(&BarChart {
            id: "b",
            title: "t",
            desc: "d",
            bars: &bars,
            negative_fill: RED,
            positive_fill: GREEN,
            extent: &[],
            suppressed_note: "",
            percent: false,
        });
        assert_eq!(svg.matches("<tspan").count(), 3, "{svg}");
        assert!(svg.contains(">Kundenbetreuung</tspan>"));
    }

    #[test]
    fn stacked_bar_widths_add_up() {
        let svg = stacked_bar(
            "s",
            "t",
            &[
                Segment {
                    label: "P",
                    count: 50,
                    fill: GREEN,
                },
                Segment {
                    label: "Pa",
                    count: 30,
                    fill: PASSIVE,
                },
                Segment {
                    label: "D",
                    count: 20,
                    fill: RED,
                },
            ],
            400.0,
            20.0,
        );
        let ws = attrs(&svg, "class=\"part\"", "width");
        assert_eq!(ws, vec![200.0, 120.0, 80.0]);
        assert!(svg.contains("50%"));
    }

    #[test]
    fn truncate_by_characters() {
        assert_eq!(truncate("Wartezeit Kundendienst", 10), "Wartezeit…");
        assert_eq!(truncate("äöü", 3), "äöü");
        assert_eq!(truncate("äöüß", 3), "äö…");
    }
}
