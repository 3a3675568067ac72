//! Hand-written SVG charts: a line chart (polylines with axis ticks and
//! labels) and a bar chart. Polyline `points` are the data values
//! themselves, placed by a transform, so a reader (or a test) can recover
//! the data from the chart.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 60.0;
const TOP: f64 = 30.0;
const RIGHT: f64 = 20.0;
const BOTTOM: f64 = 40.0;

pub struct Line<'a> {
    pub name: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// Escapes text for element content and for double-quoted attribute values
/// (series names go into both).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{}", v.round())
    } else {
        format!("{v:.2}")
    }
}

fn frame(out: &mut String, title: &str, x_label: &str, y_label: &str) {
    let (w, h) = (W + LEFT + RIGHT, H + TOP + BOTTOM);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="11"><text x="{LEFT}" y="16" font-size="13" font-weight="bold">{}</text><text x="{}" y="{}" text-anchor="middle">{}</text><text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">{}</text><rect x="{LEFT}" y="{TOP}" width="{W}" height="{H}" fill="none" stroke="#999"/>"##,
        esc(title),
        LEFT + W / 2.0,
        h - 6.0,
        esc(x_label),
        TOP + H / 2.0,
        TOP + H / 2.0,
        esc(y_label)
    );
}

fn ticks(out: &mut String, (x0, x1): (f64, f64), (y0, y1): (f64, f64)) {
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let (px, py) = (LEFT + f * W, TOP + H - f * H);
        let _ = write!(
            out,
            r##"<line x1="{px}" y1="{}" x2="{px}" y2="{}" stroke="#999"/><text x="{px}" y="{}" text-anchor="middle">{}</text><line x1="{}" y1="{py}" x2="{LEFT}" y2="{py}" stroke="#999"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            TOP + H,
            TOP + H + 4.0,
            TOP + H + 16.0,
            fmt_tick(x0 + f * (x1 - x0)),
            LEFT - 4.0,
            LEFT - 6.0,
            py + 4.0,
            fmt_tick(y0 + f * (y1 - y0)),
        );
    }
}

/// A line chart of `lines` over a shared x axis; y starts at 0.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, lines: &[Line]) -> String {
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0.0f64);
    for (x, y) in all {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    if x0 > x1 {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 == x0 {
        x1 = x0 + 1.0;
    }
    if y1 == 0.0 {
        y1 = 1.0;
    }
    let mut out = String::new();
    frame(&mut out, title, x_label, y_label);
    ticks(&mut out, (x0, x1), (0.0, y1));
    let (sx, sy) = (W / (x1 - x0), H / y1);
    for (i, l) in lines.iter().enumerate() {
        let pts: Vec<String> = l.points.iter().map(|(x, y)| format!("{x},{y}")).collect();
        let _ = write!(
            out,
            r#"<g transform="translate({} {}) scale({sx} {}) translate({} 0)"><polyline data-series="{}" fill="none" stroke="{}" stroke-width="1.5" vector-effect="non-scaling-stroke" points="{}"/></g><text x="{}" y="{}" fill="{}">{}</text>"#,
            LEFT,
            TOP + H,
            -sy,
            -x0,
            esc(l.name),
            l.color,
            pts.join(" "),
            LEFT + W - 120.0,
            TOP + 14.0 + 14.0 * i as f64,
            l.color,
            esc(l.name)
        );
    }
    out.push_str("</svg>");
    out
}

/// A bar chart: one bar per `(label, value)`, bars spread evenly over the
/// x range `x_range` (used for the tick labels).
pub fn bar_chart(
    title: &str,
    (x_label, x_range): (&str, (f64, f64)),
    y_label: &str,
    bars: &[(String, f64)],
) -> String {
    let y1 = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1.0);
    let mut out = String::new();
    frame(&mut out, title, x_label, y_label);
    ticks(&mut out, x_range, (0.0, y1));
    let bw = W / bars.len().max(1) as f64;
    for (i, (label, v)) in bars.iter().enumerate() {
        let h = H * v / y1;
        let x = LEFT + bw * i as f64;
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{h}" fill="#4a7ab7"><title>{}: {v}</title></rect><text x="{}" y="{}" text-anchor="middle" font-size="9">{}</text>"##,
            x + 2.0,
            TOP + H - h,
            bw - 4.0,
            esc(label),
            x + bw / 2.0,
            TOP + H - h - 3.0,
            v
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_chart_carries_its_data_points_and_labels() {
        let svg = line_chart(
            "t",
            "time (s)",
            "%",
            &[Line {
                name: "cpu",
                color: "red",
                points: vec![(0.0, 1.5), (10.0, 3.0)],
            }],
        );
        assert!(svg.contains(r#"points="0,1.5 10,3""#));
        assert!(svg.contains(">time (s)<"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.ends_with("</svg>"));
    }

    /// A series name with markup and quotes stays text: it cannot close the
    /// `data-series` attribute or open an element.
    #[test]
    fn series_names_are_escaped_in_attributes_and_text() {
        let svg = line_chart(
            "t",
            "x",
            "y",
            &[Line {
                name: r#"a"b<c>&"#,
                color: "red",
                points: vec![(0.0, 1.0), (1.0, 2.0)],
            }],
        );
        assert!(
            svg.contains(r#"data-series="a&quot;b&lt;c&gt;&amp;""#),
            "{svg}"
        );
        assert!(svg.contains(">a&quot;b&lt;c&gt;&amp;</text>"), "{svg}");
        assert!(!svg.contains("<c>"));
    }

    #[test]
    fn a_bar_chart_has_one_rect_per_bar_plus_the_frame() {
        let svg = bar_chart(
            "h",
            ("x", (0.0, 2.0)),
            "y",
            &[("a".into(), 1.0), ("b".into(), 2.0)],
        );
        assert_eq!(svg.matches("<rect").count(), 3);
    }
}
