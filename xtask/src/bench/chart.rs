//! `ratios.svg`: the report's Halyard/Linux tables as a bar chart, drawn with `plotters`.
//!
//! One horizontal bar per row: first the headline table's (user space on both systems),
//! then, under a heading of their own, the in-kernel section's (Halyard's in-kernel services
//! over Linux's user-space `netsvc`). The x axis is Halyard's advantage on a log scale from 8x
//! worse to 8x better: the ratio Halyard/Linux where higher is better, its inverse where
//! lower is better, so a bar points right (green) when Halyard is better and left (red) when
//! it is worse whatever the metric counts as better. The number beside a bar is the plain
//! ratio of the table. A row without a ratio says `N/A`, and the first reason Halyard lacks
//! a value is printed under the chart, so a run without Halyard does not look like a tie.
//!
//! Why SVG: the SVG backend writes text as `<text>` elements for the viewer to render, so
//! the xtask needs no font files and no font libraries (fontconfig, freetype) on a fresh
//! machine; plotters' bitmap backends would. A Markdown viewer shows it in report.md.

use super::report::KERNEL_SECTION;
use super::results::{Better, Results, Row, System};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The chart's file name, beside report.md.
pub const FILE: &str = "ratios.svg";

/// The x axis spans 2^-RANGE to 2^RANGE times Halyard's advantage.
const RANGE: f64 = 3.0;
const WIDTH: u32 = 1100;
/// Height of one bar's row, pixels.
const ROW: u32 = 26;
/// Rows kept free above the bars for the legend.
const LEGEND_ROWS: u32 = 2;
/// Caption, x axis and the note under the chart, pixels.
const FRAME: u32 = 130;
/// Width of the row labels, pixels.
const LABEL_AREA: u32 = 420;
/// The heading of the headline table's bars.
const HEADLINE_SECTION: &str = "User space on both: Halyard / Linux";
const GREEN: RGBColor = RGBColor(40, 160, 60);
const RED: RGBColor = RGBColor(200, 50, 40);
const GREY: RGBColor = RGBColor(120, 120, 120);
const FONT: &str = "sans-serif";

/// How many times better Halyard is (above 1) or worse (below 1) for a ratio H/L.
pub fn advantage(ratio: f64, better: Better) -> f64 {
    match better {
        Better::Higher => ratio,
        Better::Lower => 1.0 / ratio,
    }
}

/// The x coordinate of an advantage: its log2, clamped to the axis.
fn x_of(advantage: f64) -> f64 {
    advantage.log2().clamp(-RANGE, RANGE)
}

/// The x axis' tick label at `x`: whole powers of two only.
fn tick_label(x: f64) -> String {
    let factor = 2f64.powf(x.abs()).round();
    match x.round() as i32 {
        _ if (x - x.round()).abs() > 1e-9 => String::new(),
        0 => "same".to_string(),
        e if e > 0 => format!("{factor}x better"),
        _ => format!("{factor}x worse"),
    }
}

/// Text that fits in `max_chars` characters.
fn fit(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max_chars.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// The chart of `results` as an SVG document.
pub fn render(results: &Results) -> Result<String, String> {
    let mut svg = String::new();
    draw(results, &mut svg).map_err(|e| format!("cannot draw {FILE}: {e}"))?;
    Ok(svg)
}

/// The label of a row, as the table has it.
fn row_label(row: &Row) -> String {
    format!("{} CPU  {}", row.smp, row.metric.label)
}

/// One line of the chart: a section's heading, or a row's bar.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    Heading(&'static str),
    Bar {
        label: String,
        ratio: Option<f64>,
        better: Better,
    },
}

impl Line {
    fn label(&self) -> String {
        match self {
            Line::Heading(text) => format!("{text}:"),
            Line::Bar { label, .. } => label.clone(),
        }
    }
}

/// The headline rows under their heading, then the in-kernel section's, if it has any.
fn lines(results: &Results) -> Vec<Line> {
    let bar = |row: &Row, ratio: Option<f64>| Line::Bar {
        label: row_label(row),
        ratio,
        better: row.metric.better,
    };
    let mut lines = vec![Line::Heading(HEADLINE_SECTION)];
    lines.extend(results.rows.iter().map(|row| bar(row, row.ratio())));
    let kernel: Vec<Line> = results
        .rows
        .iter()
        .filter(|row| row.kernel.is_some())
        .map(|row| bar(row, row.kernel_ratio()))
        .collect();
    if !kernel.is_empty() {
        lines.push(Line::Heading(KERNEL_SECTION));
        lines.extend(kernel);
    }
    lines
}

fn draw(results: &Results, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let rows = lines(results);
    let n = rows.len() as u32;
    let segments = n + LEGEND_ROWS;
    // Row `i` of the table is segment `n - 1 - i`: the first row on top, the legend above.
    let segment = |i: usize| n - 1 - i as u32;
    let height = FRAME + ROW * segments;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (chart_area, note_area) = root.split_vertically(height - 24);
    let mut chart = ChartBuilder::on(&chart_area)
        .caption("Halyard / Linux on the same QEMU", (FONT, 22))
        .margin(12)
        // Room for the last tick label, centred on the axis' end.
        .margin_right(40)
        .x_label_area_size(50)
        .y_label_area_size(LABEL_AREA)
        .build_cartesian_2d(-RANGE..RANGE, (0..segments).into_segmented())?;
    let label_of = |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(s) if *s < n => rows[(n - 1 - s) as usize].label(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_labels(2 * RANGE as usize + 1)
        .x_label_formatter(&|x| tick_label(*x))
        .y_labels(segments as usize)
        .y_label_formatter(&label_of)
        .x_desc("Halyard's advantage, log scale (beside each bar: the ratio Halyard/Linux)")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .draw()?;
    let bar = |i: usize, x: f64, colour: RGBColor| {
        let s = segment(i);
        let mut bar = Rectangle::new(
            [
                (x.min(0.0), SegmentValue::Exact(s)),
                (x.max(0.0), SegmentValue::Exact(s + 1)),
            ],
            colour.filled(),
        );
        bar.set_margin(4, 4, 0, 0);
        bar
    };
    let bars: Vec<(usize, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, line)| match line {
            Line::Bar {
                ratio: Some(ratio),
                better,
                ..
            } => Some((i, x_of(advantage(*ratio, *better)))),
            _ => None,
        })
        .collect();
    for (name, colour, better) in [
        ("Halyard better", GREEN, true),
        ("Halyard worse", RED, false),
    ] {
        let side = bars.iter().filter(|(_, x)| (*x >= 0.0) == better);
        chart
            .draw_series(side.map(|&(i, x)| bar(i, x, colour)))?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
    }
    // The ratio goes on the side of the "same" line that its bar leaves free.
    let value_style = |left: bool, colour: &'static RGBColor| {
        let h = if left { HPos::Right } else { HPos::Left };
        TextStyle::from((FONT, 14).into_font())
            .color(colour)
            .pos(Pos::new(h, VPos::Center))
    };
    chart.draw_series(rows.iter().enumerate().filter_map(|(i, line)| {
        let at = |x: f64| (x, SegmentValue::CenterOf(segment(i)));
        let Line::Bar { ratio, better, .. } = line else {
            return None;
        };
        Some(match ratio {
            Some(ratio) => {
                let left = x_of(advantage(*ratio, *better)) >= 0.0;
                let x = if left { -0.08 } else { 0.08 };
                Text::new(format!("{ratio:.2}"), at(x), value_style(left, &BLACK))
            }
            None => Text::new("N/A".to_string(), at(0.08), value_style(false, &GREY)),
        })
    }))?;
    let top = SegmentValue::Exact(n);
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, SegmentValue::Exact(0)), (0.0, top)],
        BLACK.stroke_width(2),
    )))?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .background_style(WHITE)
        .border_style(GREY)
        .draw()?;
    if let Some(gap) = results.first_gap(System::Halyard) {
        let note = fit(&format!("N/A: {gap}"), 140);
        note_area.draw(&Text::new(
            note,
            (12, 4),
            (FONT, 14).into_font().color(&GREY),
        ))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::results::Meta;
    use super::*;

    /// `(x, width)` of every `<rect>` filled with `colour`.
    fn rects(svg: &str, colour: RGBColor) -> Vec<(f64, f64)> {
        let fill = format!("fill=\"#{:02X}{:02X}{:02X}\"", colour.0, colour.1, colour.2);
        let attr = |tag: &str, name: &str| -> f64 {
            let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            let len = tag[start..].find('"').unwrap();
            tag[start..start + len].parse().unwrap()
        };
        svg.split("<rect")
            .skip(1)
            .map(|tag| &tag[..tag.find('>').unwrap()])
            .filter(|tag| tag.contains(&fill))
            .map(|tag| (attr(tag, "x"), attr(tag, "width")))
            .collect()
    }

    /// The contents of every `<text>` element.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].trim())
            .collect()
    }

    #[test]
    fn the_scale_is_logarithmic_and_centred_on_one() {
        assert_eq!(x_of(1.0), 0.0);
        assert_eq!(x_of(2.0), -x_of(0.5));
        assert_eq!((x_of(100.0), x_of(0.0001)), (RANGE, -RANGE));
        // Lower-is-better: half the latency is twice as good.
        assert_eq!(advantage(0.5, Better::Lower), 2.0);
        assert_eq!(advantage(0.5, Better::Higher), 0.5);
        assert_eq!(
            [-3.0, -1.0, 0.0, 2.0, 0.5].map(tick_label),
            ["8x worse", "2x worse", "same", "4x better", ""]
        );
        assert_eq!(fit("abcdefgh", 6), "abc...");
    }

    #[test]
    fn bars_point_from_the_same_line_to_where_halyard_stands() {
        let mut r = Results::new(Meta::default(), &[1], &[]);
        // Twice the rate: better. Twice the latency: worse.
        r.record(1, System::Halyard, "rr_rate", 0, Ok(4000.0));
        r.record(1, System::Linux, "rr_rate", 0, Ok(2000.0));
        r.record(1, System::Halyard, "ping_p50", 0, Ok(1.0));
        r.record(1, System::Linux, "ping_p50", 0, Ok(0.5));
        let svg = render(&r).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // One bar each, plus each one's legend key.
        let green = rects(&svg, GREEN);
        let red = rects(&svg, RED);
        assert_eq!((green.len(), red.len()), (2, 2), "{svg}");
        let ((gx, gw), (rx, rw)) = (green[0], red[0]);
        // Both start at the "same" line, one to each side, equally long (2x each way).
        assert_eq!(gx, rx + rw);
        assert!(gw > 10.0 && (gw - rw).abs() <= 1.0, "{gw} {rw}");
        let texts = texts(&svg);
        for text in [
            "Halyard / Linux on the same QEMU",
            "1 CPU  TCP 64 B req/resp rate",
            "1 CPU  ping RTT median",
            "8x worse",
            "same",
            "8x better",
            "Halyard better",
            "Halyard worse",
            "User space on both: Halyard / Linux:",
        ] {
            assert!(texts.contains(&text), "{text} missing from {texts:?}");
        }
        assert!(texts.iter().any(|t| t.contains("log scale")));
        // The table's ratios: twice the rate and twice the latency are both 2.00.
        assert_eq!(texts.iter().filter(|&&t| t == "2.00").count(), 2);
        // Every other row has no ratio, and the first of them says why.
        let na = texts.iter().filter(|&&t| t == "N/A").count();
        assert_eq!(na, r.rows.len() - 2);
        assert!(
            texts.contains(&"N/A: smp 1 start to NET-UP: not measured"),
            "{texts:?}"
        );
        assert!(!texts.iter().any(|t| t.contains("in-kernel")), "{texts:?}");
    }

    #[test]
    fn the_in_kernel_rows_follow_under_their_heading() {
        let mut r = Results::new(Meta::default(), &[1], &[1]);
        r.rows.retain(|row| row.metric.id == "rr_rate");
        r.record(1, System::Halyard, "rr_rate", 0, Ok(1000.0));
        r.record(1, System::HalyardKernel, "rr_rate", 0, Ok(8000.0));
        r.record(1, System::Linux, "rr_rate", 0, Ok(2000.0));
        let lines = lines(&r);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(lines[2], Line::Heading(KERNEL_SECTION));
        let svg = render(&r).unwrap();
        let texts = texts(&svg);
        let heading = format!("{KERNEL_SECTION}:");
        assert!(texts.contains(&heading.as_str()), "{texts:?}");
        // Twice worse in user space, four times better from the kernel.
        assert!(
            texts.contains(&"0.50") && texts.contains(&"4.00"),
            "{texts:?}"
        );
        let (green, red) = (rects(&svg, GREEN), rects(&svg, RED));
        assert_eq!((green.len(), red.len()), (2, 2), "{svg}");
        assert!(green[0].1 > 1.9 * red[0].1, "{green:?} {red:?}");
    }

    #[test]
    fn a_complete_run_has_no_note() {
        let mut r = Results::new(Meta::default(), &[1], &[]);
        r.rows.truncate(1);
        r.sched.clear();
        r.record(1, System::Halyard, "boot_netup", 0, Ok(1.0));
        r.record(1, System::Linux, "boot_netup", 0, Ok(20.0));
        let svg = render(&r).unwrap();
        assert!(!svg.contains("N/A"), "{svg}");
        // 20 times faster is off the scale: the bar ends at its edge.
        assert_eq!(rects(&svg, GREEN).len(), 2);
        assert!(texts(&svg).contains(&"0.05"), "{svg}");
    }
}
