//! The dashboard's charts as SVG, drawn on the server by `plotters`: lines
//! (a value per week, one line per series) and bars (stacked when there are
//! several series). Axes and labels use `currentColor`, so a chart is as
//! readable in dark mode as in light; every chart has its numbers in a table
//! beside it (the page's), so nothing depends on seeing it.

use plotters::prelude::*;

/// One named series of values, one per label (`None`: no data that period).
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
}

/// Colours distinguishable in light and dark mode and by most colour-blind
/// readers (Okabe–Ito).
const PALETTE: [RGBColor; 5] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
];

const WIDTH: u32 = 640;
const HEIGHT: u32 = 280;

/// A line chart of `series` over `labels`, the y axis in `unit`.
pub fn lines(labels: &[String], series: &[Series<'_>], unit: &str) -> String {
    let top = max_value(series.iter().flat_map(|s| s.values.iter().flatten().copied()));
    draw(labels, unit, top, |chart| {
        for (i, one) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let points: Vec<(i32, f64)> = one
                .values
                .iter()
                .enumerate()
                .filter_map(|(x, v)| v.map(|v| (x as i32, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(one.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        Ok(())
    })
}

/// Bars over `labels`, the series stacked in order, the y axis in `unit`.
pub fn stacked_bars(labels: &[String], series: &[Series<'_>], unit: &str) -> String {
    let totals: Vec<f64> = (0..labels.len())
        .map(|x| {
            series
                .iter()
                .map(|s| s.values.get(x).copied().flatten().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let top = max_value(totals.iter().copied());
    draw(labels, unit, top, |chart| {
        let mut base = vec![0.0; labels.len()];
        for (i, one) in series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let bars: Vec<Rectangle<(i32, f64)>> = one
                .values
                .iter()
                .enumerate()
                .filter_map(|(x, v)| {
                    let v = v.filter(|v| *v > 0.0)?;
                    let bottom = base[x];
                    base[x] += v;
                    Some(Rectangle::new(
                        [(x as i32, bottom), (x as i32 + 1, bottom + v)],
                        colour.filled(),
                    ))
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(one.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
        }
        Ok(())
    })
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordi32, plotters::coord::types::RangedCoordf64>,
>;

/// A chart frame with `labels` along the x axis and 0..`top` up the y axis.
fn draw(
    labels: &[String],
    unit: &str,
    top: f64,
    plot: impl FnOnce(&mut Chart<'_, '_>) -> Result<(), DrawingAreaErrorKind<std::io::Error>>,
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let drawn = (|| {
            let count = labels.len().max(1) as i32;
            let mut chart = ChartBuilder::on(&root)
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(52)
                .build_cartesian_2d(0..count, 0.0..top)?;
            let label_of = |x: &i32| labels.get(*x as usize).cloned().unwrap_or_default();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(labels.len().clamp(1, 12))
                .x_label_formatter(&label_of)
                .y_labels((top.ceil() as usize).clamp(2, 10))
                .y_desc(unit)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .light_line_style(BLACK.mix(0.08))
                .draw()?;
            plot(&mut chart)?;
            if labels.is_empty() {
                return Ok(());
            }
            chart
                .configure_series_labels()
                .border_style(BLACK.mix(0.2))
                .background_style(WHITE.mix(0.0))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
        })();
        if let Err(error) = drawn {
            tracing::warn!(%error, "a chart could not be drawn");
        }
        let _ = root.present();
    }
    themed(&svg)
}

/// Black ink becomes the page's text colour; the white background goes.
fn themed(svg: &str) -> String {
    svg.replace("#000000", "currentColor")
        .replace("#FFFFFF", "none")
        .replace("<svg ", "<svg role=\"img\" focusable=\"false\" ")
}

/// The top of the y axis: a little above the largest value (1 when empty).
fn max_value(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max <= 0.0 { 1.0 } else { max * 1.15 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks() -> Vec<String> {
        ["2026-W47", "2026-W48", "2026-W49"].map(String::from).to_vec()
    }

    #[test]
    fn a_line_chart_is_svg_that_follows_the_theme() {
        let svg = lines(
            &weeks(),
            &[Series {
                name: "MTTR",
                values: vec![Some(30.0), None, Some(90.0)],
            }],
            "minutes",
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("currentColor") && !svg.contains("#000000"));
        assert!(svg.contains("2026-W49") && svg.contains("MTTR"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn stacked_bars_draw_one_rectangle_per_non_zero_value() {
        let series = [
            Series {
                name: "sev1",
                values: vec![Some(1.0), Some(0.0), Some(2.0)],
            },
            Series {
                name: "sev2",
                values: vec![Some(3.0), None, Some(1.0)],
            },
        ];
        let svg = stacked_bars(&weeks(), &series, "incidents");
        // sev1: two bars (the zero is not drawn) and its legend swatch; sev2 likewise.
        assert_eq!(svg.matches("fill=\"#0072B2\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("fill=\"#D55E00\"").count(), 3, "{svg}");
        let empty = stacked_bars(&[], &[], "incidents");
        assert!(empty.starts_with("<svg"));
    }
}
