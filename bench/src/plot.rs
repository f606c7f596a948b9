//! `mamori-bench --plot OUT.svg RUN.json…`: how each cost grows with the number of principals,
//! drawn from the bench's own JSON output (one file per N), Mamori solid and the raw baseline
//! dashed, both axes logarithmic. Plain SVG, no plotting dependency.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// One line of a panel: its name, how to read its value from a figure object, dashed or not.
type Series = (&'static str, fn(&Value) -> Option<f64>, bool);

/// A line's name, whether dashed, and its points (principals, value).
type Line<'a> = (&'a str, bool, Vec<(f64, f64)>);

/// One panel: a figure and the lines drawn from it.
struct Panel {
    figure: &'static str,
    title: &'static str,
    series: &'static [Series],
}

fn f(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

const PANELS: &[Panel] = &[
    Panel {
        figure: "import",
        title: "import: ms per row",
        series: &[
            ("mamori", |v| f(v, "rows_per_s").map(|r| 1000.0 / r), false),
            (
                "raw",
                |v| f(v, "baseline_rows_per_s").map(|r| 1000.0 / r),
                true,
            ),
        ],
    },
    Panel {
        figure: "read",
        title: "read (64 readers): ms per read",
        series: &[
            ("mamori", |v| f(v, "reads_per_s").map(|r| 1000.0 / r), false),
            (
                "raw",
                |v| f(v, "baseline_reads_per_s").map(|r| 1000.0 / r),
                true,
            ),
        ],
    },
    Panel {
        figure: "http_read",
        title: "HTTP read: ms per read",
        series: &[
            ("mamori", |v| f(v, "reads_per_s").map(|r| 1000.0 / r), false),
            (
                "raw",
                |v| f(v, "baseline_reads_per_s").map(|r| 1000.0 / r),
                true,
            ),
        ],
    },
    Panel {
        figure: "verify",
        title: "verify: whole log, s",
        series: &[
            ("mamori", |v| f(v, "seconds"), false),
            ("raw hash", |v| f(v, "baseline_seconds"), true),
        ],
    },
    Panel {
        figure: "disclose",
        title: "disclose: ms (p50, p99)",
        series: &[
            ("p50", |v| f(v, "p50_ms"), false),
            ("p99", |v| f(v, "p99_ms"), false),
            ("raw p50", |v| f(v, "baseline_p50_ms"), true),
        ],
    },
    Panel {
        figure: "erase",
        title: "erase: ms (p50, p99)",
        series: &[
            ("p50", |v| f(v, "p50_ms"), false),
            ("p99", |v| f(v, "p99_ms"), false),
            ("raw p50", |v| f(v, "baseline_p50_ms"), true),
        ],
    },
];

const COLORS: [&str; 3] = ["#1f5fa8", "#c0392b", "#555555"];

pub fn plot(out: &Path, runs: &[std::path::PathBuf]) -> Result<()> {
    // (principals, figures) per run, smallest N first.
    let mut data: Vec<(f64, Vec<Value>)> = Vec::new();
    for r in runs {
        let text = std::fs::read_to_string(r).with_context(|| format!("{}", r.display()))?;
        let v: Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: not bench JSON", r.display()))?;
        let figs = v
            .get("figures")
            .and_then(Value::as_array)
            .cloned()
            .with_context(|| format!("{}: no \"figures\"", r.display()))?;
        let n = figs
            .iter()
            .find(|x| x.get("name").and_then(Value::as_str) == Some("import"))
            .and_then(|x| f(x, "rows"))
            .with_context(|| format!("{}: no import figure", r.display()))?;
        data.push((n, figs));
    }
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (pw, ph, cols) = (300.0, 220.0, 3usize);
    let rows = PANELS.len().div_ceil(cols);
    let (w, h) = (pw * cols as f64, ph * rows as f64 + 30.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="10" y="18" font-size="13">Mamori vs raw baseline by number of principals (log-log; solid: Mamori, dashed: baseline)</text>"#
    );
    let xs: Vec<f64> = data.iter().map(|d| d.0).collect();
    let (xmin, xmax) = (
        xs.first().copied().unwrap_or(1.0).log10(),
        xs.last().copied().unwrap_or(10.0).log10(),
    );
    for (i, p) in PANELS.iter().enumerate() {
        let ox = (i % cols) as f64 * pw;
        let oy = 30.0 + (i / cols) as f64 * ph;
        let (l, r, t, b) = (ox + 50.0, ox + pw - 15.0, oy + 22.0, oy + ph - 35.0);
        let series: Vec<Line> = p
            .series
            .iter()
            .map(|(name, get, dashed)| {
                let pts = data
                    .iter()
                    .filter_map(|(n, figs)| {
                        let fig = figs
                            .iter()
                            .find(|x| x.get("name").and_then(Value::as_str) == Some(p.figure))?;
                        get(fig).filter(|y| *y > 0.0).map(|y| (*n, y))
                    })
                    .collect();
                (*name, *dashed, pts)
            })
            .collect();
        let ys: Vec<f64> = series
            .iter()
            .flat_map(|s| s.2.iter().map(|p| p.1))
            .collect();
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-size="12">{}</text>"#,
            l,
            oy + 14.0,
            p.title
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
            r - l,
            b - t
        );
        if ys.is_empty() {
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" fill="#999">not measured</text>"##,
                l + 10.0,
                t + 20.0
            );
            continue;
        }
        let lo = ys
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor();
        let hi = ys
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .log10()
            .ceil()
            .max(lo + 1.0);
        let sx = |x: f64| {
            if xmax > xmin {
                l + (x.log10() - xmin) / (xmax - xmin) * (r - l)
            } else {
                (l + r) / 2.0
            }
        };
        let sy = |y: f64| b - (y.log10() - lo) / (hi - lo) * (b - t);
        let mut e = lo;
        while e <= hi {
            let y = sy(10f64.powf(e));
            let _ = writeln!(
                svg,
                r##"<line x1="{l}" y1="{y:.1}" x2="{r}" y2="{y:.1}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                l - 4.0,
                y + 4.0,
                label(10f64.powf(e))
            );
            e += 1.0;
        }
        for x in &xs {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                sx(*x),
                b + 14.0,
                label(*x)
            );
        }
        let mut legend_y = t + 12.0;
        for (k, (name, dashed, pts)) in series.iter().enumerate() {
            let color = COLORS.get(k).copied().unwrap_or("#000");
            let dash = if *dashed {
                r#" stroke-dasharray="5,4""#
            } else {
                ""
            };
            let path: Vec<String> = pts
                .iter()
                .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
                path.join(" ")
            );
            for (x, y) in pts {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"><title>{name} at {}: {}</title></circle>"#,
                    sx(*x),
                    sy(*y),
                    label(*x),
                    short(*y)
                );
            }
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{legend_y}" fill="{color}">{name}</text>"#,
                r - 60.0
            );
            legend_y += 13.0;
        }
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">principals</text>"##,
            (l + r) / 2.0,
            b + 28.0
        );
    }
    svg.push_str("</svg>\n");
    std::fs::write(out, svg).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else if v >= 1.0 {
        format!("{v}")
    } else {
        format!("{v:.0e}")
    }
}

fn short(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}
