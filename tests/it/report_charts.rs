//! Reads report.html's charts back as data: each `<figure data-chart>`
//! declares the map from data to pixels (`data-x`, `data-y`) and each
//! series' colour (`data-series`), and plotters draws series as polylines,
//! circles and rects of that colour. The plan tests compare what is drawn
//! with report.json.

/// One chart of the page.
pub struct Figure {
    pub id: String,
    /// `lo hi pixel_of_lo pixel_of_hi`
    x: [f64; 4],
    y: [f64; 4],
    series: Vec<(String, String)>,
    body: String,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    tag.split(&format!(" {name}=\"")).nth(1)?.split('"').next()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn four(text: &str) -> [f64; 4] {
    let v: Vec<f64> = text.split(' ').map(|v| v.parse().unwrap()).collect();
    [v[0], v[1], v[2], v[3]]
}

/// Every chart of `html`, in page order.
pub fn figures(html: &str) -> Vec<Figure> {
    html.split("<figure ")
        .skip(1)
        .map(|f| {
            let (open, rest) = f.split_once('>').unwrap();
            let series = unescape(attr(open, "data-series").unwrap())
                .split(';')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let (name, color) = s.rsplit_once('=').unwrap();
                    (name.to_string(), color.to_string())
                })
                .collect();
            Figure {
                id: attr(&format!(" {open}"), "data-chart").unwrap().to_string(),
                x: four(attr(open, "data-x").unwrap()),
                y: four(attr(open, "data-y").unwrap()),
                series,
                body: rest.split("</figure>").next().unwrap().to_string(),
            }
        })
        .collect()
}

/// The chart with this id.
pub fn figure<'a>(all: &'a [Figure], id: &str) -> &'a Figure {
    all.iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no chart {id}"))
}

fn unmap(m: &[f64; 4], pixel: f64) -> f64 {
    m[0] + (pixel - m[2]) / (m[3] - m[2]) * (m[1] - m[0])
}

impl Figure {
    /// The axes' data ranges: (x lo, x hi), (y lo, y hi).
    pub fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        ((self.x[0], self.x[1]), (self.y[0], self.y[1]))
    }

    /// Half a pixel in data units, x and y: how far a drawn point may be
    /// from its value.
    pub fn tolerance(&self) -> (f64, f64) {
        let half = |m: &[f64; 4]| 0.5 * (m[1] - m[0]).abs() / (m[3] - m[2]).abs() + 1e-9;
        (half(&self.x), half(&self.y))
    }

    fn color(&self, series: &str) -> &str {
        &self
            .series
            .iter()
            .find(|(n, _)| {
                n == series
                    || n.starts_with(&format!("{series}:"))
                    || n.starts_with(&format!("{series} ("))
            })
            .unwrap_or_else(|| panic!("{}: no series {series} in {:?}", self.id, self.series))
            .1
    }

    fn tags(&self, element: &str, series: &str, paint: &str) -> Vec<&str> {
        let color = format!(" {paint}=\"{}\"", self.color(series));
        self.body
            .split(&format!("<{element} "))
            .skip(1)
            .map(|t| t.split('>').next().unwrap())
            .filter(|t| format!(" {t}").contains(&color))
            .collect()
    }

    /// The series' polylines, each as data points.
    pub fn lines(&self, series: &str) -> Vec<Vec<(f64, f64)>> {
        self.tags("polyline", series, "stroke")
            .into_iter()
            .map(|t| {
                attr(&format!(" {t}"), "points")
                    .unwrap()
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p.split_once(',').unwrap();
                        (
                            unmap(&self.x, x.parse().unwrap()),
                            unmap(&self.y, y.parse().unwrap()),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// The centres of the series' circles painted by `paint` (`fill`:
    /// dots; `stroke`: rings), as data points.
    fn centres(&self, series: &str, paint: &str) -> Vec<(f64, f64)> {
        self.tags("circle", series, paint)
            .into_iter()
            .map(|t| {
                let t = format!(" {t}");
                let n = |k: &str| attr(&t, k).unwrap().parse::<f64>().unwrap();
                (unmap(&self.x, n("cx")), unmap(&self.y, n("cy")))
            })
            .collect()
    }

    /// The series' dot centres, as data points.
    pub fn dots(&self, series: &str) -> Vec<(f64, f64)> {
        self.centres(series, "fill")
    }

    /// The centres of the series' rings, as data points.
    pub fn rings(&self, series: &str) -> Vec<(f64, f64)> {
        self.centres(series, "stroke")
    }

    /// Whether the figure has a series of this name.
    pub fn has(&self, series: &str) -> bool {
        self.series.iter().any(|(n, _)| n == series)
    }

    /// The series' filled rects as (left, right, top) in data units.
    pub fn bars(&self, series: &str) -> Vec<(f64, f64, f64)> {
        self.tags("rect", series, "fill")
            .into_iter()
            .map(|t| {
                let t = format!(" {t}");
                let n = |k: &str| attr(&t, k).unwrap().parse::<f64>().unwrap();
                (
                    unmap(&self.x, n("x")),
                    unmap(&self.x, n("x") + n("width")),
                    unmap(&self.y, n("y")),
                )
            })
            .collect()
    }

    /// The labels under the x axis (its tick labels).
    pub fn x_labels(&self) -> Vec<String> {
        self.body
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                let (open, rest) = t.split_once('>')?;
                let y: f64 = attr(open, "y")?.parse().ok()?;
                let below_axis = y > self.y[2] && !open.contains("rotate");
                below_axis.then(|| rest.split("</text>").next().unwrap().trim().to_string())
            })
            .collect()
    }

    /// Asserts that `drawn` is `want`, point by point, within half a pixel.
    pub fn assert_points(&self, what: &str, drawn: &[(f64, f64)], want: &[(f64, f64)]) {
        let (tx, ty) = self.tolerance();
        assert_eq!(
            drawn.len(),
            want.len(),
            "{}: {what}: {drawn:?} vs {want:?}",
            self.id
        );
        for (d, w) in drawn.iter().zip(want) {
            assert!(
                (d.0 - w.0).abs() <= tx && (d.1 - w.1).abs() <= ty,
                "{}: {what}: drawn {d:?}, report.json {w:?}",
                self.id
            );
        }
    }
}
