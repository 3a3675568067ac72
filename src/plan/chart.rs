//! Charts for report.html, drawn with plotters' SVG backend (text metrics
//! from plotters' built-in estimate, no system fonts, so the same report
//! gives the same bytes on every machine).
//!
//! Each chart is a `<figure>` whose `data-x` / `data-y` attributes give
//! the linear map from data to pixels (`lo hi pixel_of_lo pixel_of_hi`) and
//! whose `data-series` names each series' colour, so a reader (or a test)
//! can read every drawn point back as data. The legend is HTML under the
//! chart, not part of the drawing.

use super::ticks::{Scale, label, ticks};
use plotters::prelude::*;
use std::fmt::Write;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 260;

/// One axis: what it measures and the data range it must show.
pub struct Axis {
    pub label: String,
    pub scale: Scale,
    pub lo: f64,
    pub hi: f64,
}

/// How a series is drawn.
pub enum Mark {
    /// Points joined by a line (time series).
    Line(Vec<(f64, f64)>),
    /// A marker at each point, nothing between (probed counts).
    Dots(Vec<(f64, f64)>),
    /// A ring around each point (a probe that fails).
    Rings(Vec<(f64, f64)>),
    /// Points joined by a line, each marked (values computed only there).
    Path(Vec<(f64, f64)>),
    /// A vertical bar from low to high at each x: `(x, low, high)`.
    Spans(Vec<(f64, f64, f64)>),
    /// A horizontal line across the chart at this y (a threshold).
    HRule(f64),
    /// A vertical line across the chart at this x (a chosen count, an
    /// instant).
    VRule(f64),
    /// Filled bars `(x0, x1, height)` from the axis up.
    Bars(Vec<(f64, f64, f64)>),
}

pub struct Series {
    pub name: String,
    /// `#RRGGBB`, upper case as plotters writes it; distinct within a chart.
    pub color: &'static str,
    pub mark: Mark,
}

pub struct Chart {
    /// Unique in the page: `data-chart`.
    pub id: String,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    pub series: Vec<Series>,
    /// Names for the x ticks 0, 1, 2… of a categorical axis (empty: the
    /// axis is numeric).
    pub x_names: Vec<String>,
}

/// Escapes text for element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn rgb(color: &str) -> RGBColor {
    let hex = |i: usize| u8::from_str_radix(color.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    RGBColor(hex(1), hex(3), hex(5))
}

/// The chart as a `<figure>`: title, SVG, legend.
pub fn render(chart: &Chart) -> String {
    let xt = ticks(chart.x.scale, chart.x.lo, chart.x.hi);
    let yt = ticks(chart.y.scale, chart.y.lo, chart.y.hi);
    let (x_span, y_span) = (xt.hi - xt.lo, yt.hi - yt.lo);
    let mut svg = String::new();
    let mut maps = ((0, 0), (0, 0));
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = draw(chart, &root, &xt, &yt, (x_span, y_span));
        maps = drawn.unwrap_or(maps);
        let _ = root.present();
    }
    let ((x0, x1), (y0, y1)) = maps;
    // Named for screen readers by its title (the figcaption shows it).
    let svg = svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(&chart.title)),
        1,
    );
    let mut out = String::new();
    let colors: Vec<String> = chart
        .series
        .iter()
        .map(|s| format!("{}={}", s.name.replace(';', ","), s.color))
        .collect();
    let _ = write!(
        out,
        "<figure class=\"chart\" data-chart=\"{}\" data-x=\"{} {} {x0} {x1}\" data-y=\"{} {} {y0} {y1}\" data-series=\"{}\"><figcaption>{}</figcaption>{svg}<div class=\"legend\">",
        esc(&chart.id),
        xt.lo,
        xt.hi,
        yt.lo,
        yt.hi,
        esc(&colors.join(";")),
        esc(&chart.title),
    );
    for s in &chart.series {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            s.color,
            esc(&s.name)
        );
    }
    out.push_str("</div></figure>");
    out
}

type Pixels = ((i32, i32), (i32, i32));

/// A linear f64 axis whose bold ticks are ours (plotters' own f64 axis
/// picks its ticks itself, and its key-point wrapper loses the label
/// formatter). Pixels are rounded to the nearest.
struct Ticked {
    lo: f64,
    hi: f64,
    at: Vec<f64>,
}

impl From<&super::ticks::Ticks> for Ticked {
    fn from(t: &super::ticks::Ticks) -> Ticked {
        Ticked {
            lo: t.lo,
            hi: t.hi,
            at: t.at.clone(),
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, (from, to): (i32, i32)) -> i32 {
        let f = (v - self.lo) / (self.hi - self.lo);
        from + (f * f64::from(to - from)).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.at.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Draws the axes and the series; returns the pixel positions of the
/// axes' ends (x: left, right; y: bottom, top).
fn draw(
    chart: &Chart,
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    xt: &super::ticks::Ticks,
    yt: &super::ticks::Ticks,
    spans: (f64, f64),
) -> Result<Pixels, String> {
    draw_on(chart, root, xt, yt, spans).map_err(|e| e.to_string())
}

/// An axis title cut to `chars` characters at a dot, keeping its end
/// (`…time_to_ready_ms.p99`): the figure's caption has it whole.
fn fitted(title: &str, chars: usize) -> String {
    if title.chars().count() <= chars {
        return title.to_string();
    }
    let mut kept = String::new();
    for part in title.rsplit('.') {
        let longer = if kept.is_empty() {
            part.to_string()
        } else {
            format!("{part}.{kept}")
        };
        if longer.chars().count() + 1 > chars {
            break;
        }
        kept = longer;
    }
    if kept.is_empty() {
        kept = title
            .chars()
            .rev()
            .take(chars.saturating_sub(1))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
    }
    format!("…{kept}")
}

fn draw_on<'a>(
    chart: &Chart,
    root: &'a DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    xt: &super::ticks::Ticks,
    yt: &super::ticks::Ticks,
    (x_span, y_span): (f64, f64),
) -> Result<Pixels, Box<dyn std::error::Error + 'a>> {
    root.fill(&WHITE)?;
    // Room for the widest tick label (12 px text, about 7 px a character)
    // beside the axis title, so that neither runs over the other.
    let widest = (yt.at.iter())
        .map(|v| label(chart.y.scale, y_span, *v).chars().count())
        .max()
        .unwrap_or(0) as u32;
    let mut ctx = ChartBuilder::on(root)
        .margin(12)
        // The last x label ("100%") is centred on the axis's end.
        .margin_right(24)
        .x_label_area_size(38)
        .y_label_area_size((7 * widest + 30).max(62))
        .build_cartesian_2d(Ticked::from(xt), Ticked::from(yt))?;
    let x_fmt = |v: &f64| match chart.x_names.get(v.round().max(0.0) as usize) {
        Some(name) => name.clone(),
        None => label(chart.x.scale, x_span, *v),
    };
    let y_fmt = |v: &f64| label(chart.y.scale, y_span, *v);
    ctx.configure_mesh()
        .x_desc(chart.x.label.as_str())
        .y_desc(fitted(&chart.y.label, (HEIGHT - 70) as usize / 7))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .bold_line_style(RGBColor(230, 230, 230))
        .axis_style(RGBColor(120, 120, 120))
        // plotters draws text at size / 1.24: these are 12 px.
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 15))
        .draw()?;
    for s in &chart.series {
        let color = rgb(s.color);
        match &s.mark {
            Mark::Line(points) => {
                ctx.draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?;
            }
            Mark::Dots(points) => {
                ctx.draw_series(points.iter().map(|p| Circle::new(*p, 4, color.filled())))?;
            }
            Mark::Path(points) => {
                ctx.draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?;
                ctx.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
            }
            Mark::Rings(points) => {
                ctx.draw_series(
                    points
                        .iter()
                        .map(|p| Circle::new(*p, 8, color.stroke_width(2))),
                )?;
            }
            Mark::Spans(spans) => {
                ctx.draw_series(spans.iter().map(|(x, lo, hi)| {
                    PathElement::new(vec![(*x, *lo), (*x, *hi)], color.stroke_width(3))
                }))?;
            }
            Mark::HRule(y) => {
                ctx.draw_series(std::iter::once(PathElement::new(
                    vec![(xt.lo, *y), (xt.hi, *y)],
                    color.stroke_width(2),
                )))?;
            }
            Mark::VRule(x) => {
                ctx.draw_series(std::iter::once(PathElement::new(
                    vec![(*x, yt.lo), (*x, yt.hi)],
                    color.stroke_width(2),
                )))?;
            }
            Mark::Bars(bars) => {
                ctx.draw_series(
                    bars.iter()
                        .map(|(a, b, h)| Rectangle::new([(*a, yt.lo), (*b, *h)], color.filled())),
                )?;
            }
        }
    }
    let left = ctx.backend_coord(&(xt.lo, yt.lo));
    let right_top = ctx.backend_coord(&(xt.hi, yt.hi));
    Ok(((left.0, right_top.0), (left.1, right_top.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_axis_title_keeps_its_end_at_a_dot() {
        assert_eq!(fitted("vms.lost", 30), "vms.lost");
        assert_eq!(
            fitted("supervisor.pods.time_to_ready_ms.p99", 30),
            "…pods.time_to_ready_ms.p99"
        );
        assert_eq!(fitted("abcdefghij", 5), "…ghij");
    }

    fn chart(series: Vec<Series>) -> Chart {
        Chart {
            id: "t".into(),
            title: "T <1>".into(),
            x: Axis {
                label: "hosts".into(),
                scale: Scale::Count,
                lo: 2.0,
                hi: 6.0,
            },
            y: Axis {
                label: "%".into(),
                scale: Scale::Percent,
                lo: 0.0,
                hi: 50.0,
            },
            series,
            x_names: vec![],
        }
    }

    /// `data-x` / `data-y` map the data onto the pixels plotters drew.
    #[test]
    fn the_declared_map_places_the_drawn_markers() {
        let html = render(&chart(vec![Series {
            name: "median".into(),
            color: "#C0392B",
            mark: Mark::Dots(vec![(3.0, 25.0), (5.0, 50.0)]),
        }]));
        let attr = |name: &str| -> Vec<f64> {
            let rest = html.split(&format!("{name}=\"")).nth(1).unwrap();
            rest.split('"')
                .next()
                .unwrap()
                .split(' ')
                .map(|v| v.parse().unwrap())
                .collect()
        };
        let (x, y) = (attr("data-x"), attr("data-y"));
        assert_eq!((x[0], x[1], y[0], y[1]), (2.0, 6.0, 0.0, 100.0));
        let px = |v: f64| x[2] + (v - x[0]) / (x[1] - x[0]) * (x[3] - x[2]);
        let py = |v: f64| y[2] + (v - y[0]) / (y[1] - y[0]) * (y[3] - y[2]);
        let circles: Vec<(f64, f64)> = html
            .split("<circle ")
            .skip(1)
            .map(|c| {
                let num = |k: &str| -> f64 {
                    c.split(&format!("{k}=\""))
                        .nth(1)
                        .unwrap()
                        .split('"')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                };
                (num("cx"), num("cy"))
            })
            .collect();
        assert_eq!(circles.len(), 2);
        for ((cx, cy), (vx, vy)) in circles.iter().zip([(3.0, 25.0), (5.0, 50.0)]) {
            assert!((cx - px(vx)).abs() <= 1.0 && (cy - py(vy)).abs() <= 1.0);
        }
        assert!(html.contains("data-series=\"median=#C0392B\""));
        assert!(html.contains("<figcaption>T &lt;1&gt;</figcaption>"));
    }

    #[test]
    fn tick_labels_are_whole_hosts_and_whole_percents() {
        let html = render(&chart(vec![]));
        let texts: Vec<&str> = html
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split_once('>')?.1.split("</text>").next())
            .map(str::trim)
            .collect();
        assert_eq!(
            texts,
            [
                "%", "hosts", "0%", "20%", "40%", "60%", "80%", "100%", "2", "3", "4", "5", "6"
            ]
        );
    }
}
