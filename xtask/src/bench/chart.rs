//! `ratios.png`: one horizontal bar per report row, readable at a glance.
//!
//! Bars start at the "same as Linux" line and point right (green) when Halyard is better,
//! left (red) when it is worse, whichever direction the metric counts as better, on a log
//! scale from 8x worse to 8x better; the number printed is the plain ratio Halyard/Linux of
//! the table. Rows without a ratio say `N/A` and why in the title area, so a chart from a
//! run without Halyard still reads correctly instead of looking like a tie.

use super::font;
use super::png;
use super::results::{Better, Results, System};

/// Palette indices.
const WHITE: u8 = 0;
const BLACK: u8 = 1;
const GREY: u8 = 2;
const GREEN: u8 = 3;
const RED: u8 = 4;
const LIGHT: u8 = 5;
const PALETTE: [[u8; 3]; 6] = [
    [255, 255, 255],
    [0, 0, 0],
    [120, 120, 120],
    [40, 160, 60],
    [200, 50, 40],
    [225, 225, 225],
];

/// Font pixels are drawn as SCALE x SCALE squares.
const SCALE: usize = 2;
const ADVANCE: usize = (font::WIDTH + 1) * SCALE;
const WIDTH: usize = 1100;
const LABEL_X: usize = 10;
const PLOT_X0: usize = 400;
const PLOT_X1: usize = 960;
const VALUE_X: usize = 975;
const HEADER: usize = 80;
const ROW: usize = 26;
const FOOTER: usize = 40;
/// The scale spans 2^-RANGE to 2^RANGE.
const RANGE: f64 = 3.0;

/// A palette image being drawn.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![WHITE; width * height],
        }
    }

    fn rect(&mut self, x0: usize, y0: usize, x1: usize, y1: usize, colour: u8) {
        for y in y0.min(self.height)..y1.min(self.height) {
            let row = y * self.width;
            self.pixels[row + x0.min(self.width)..row + x1.min(self.width)].fill(colour);
        }
    }

    /// Draws `text` with its top-left corner at (x, y); returns the x after it.
    fn text(&mut self, x: usize, y: usize, text: &str, colour: u8) -> usize {
        let mut x = x;
        for c in text.chars() {
            for (dy, bits) in font::glyph(c).iter().enumerate() {
                for dx in 0..font::WIDTH {
                    if bits & (1 << (font::WIDTH - 1 - dx)) != 0 {
                        let (px, py) = (x + dx * SCALE, y + dy * SCALE);
                        self.rect(px, py, px + SCALE, py + SCALE, colour);
                    }
                }
            }
            x += ADVANCE;
        }
        x
    }
}

/// The x coordinate of "Halyard is `factor` times better" on the log scale.
fn x_of(factor: f64) -> usize {
    let t = (factor.log2().clamp(-RANGE, RANGE) + RANGE) / (2.0 * RANGE);
    PLOT_X0 + (t * (PLOT_X1 - PLOT_X0) as f64).round() as usize
}

/// How many times better Halyard is (above 1) or worse (below 1) for a ratio H/L.
pub fn advantage(ratio: f64, better: Better) -> f64 {
    match better {
        Better::Higher => ratio,
        Better::Lower => 1.0 / ratio,
    }
}

/// Text that fits in `max_chars` glyphs.
fn fit(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max_chars.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// The chart of `results` as a PNG file's bytes.
pub fn render(results: &Results) -> Vec<u8> {
    let c = draw(results);
    png::encode_indexed(c.width as u32, c.height as u32, &PALETTE, &c.pixels)
}

fn draw(results: &Results) -> Canvas {
    let height = HEADER + ROW * results.rows.len() + FOOTER;
    let mut c = Canvas::new(WIDTH, height);
    let max_chars = (WIDTH - 2 * LABEL_X) / ADVANCE;
    c.text(LABEL_X, 8, "HALYARD / LINUX, SAME QEMU (LOG SCALE)", BLACK);
    let x = c.text(LABEL_X, 30, "BAR RIGHT ", GREEN);
    let x = c.text(x, 30, "= HALYARD BETTER, ", BLACK);
    let x = c.text(x, 30, "LEFT ", RED);
    c.text(x, 30, "= WORSE; NUMBER = HALYARD/LINUX", BLACK);
    if let Some(gap) = results.first_gap(System::Halyard) {
        c.text(LABEL_X, 52, &fit(&format!("N/A: {gap}"), max_chars), GREY);
    }
    let mid = x_of(1.0);
    let plot_bottom = HEADER + ROW * results.rows.len();
    for factor in [0.125, 0.25, 0.5, 2.0, 4.0, 8.0] {
        let x = x_of(factor);
        c.rect(x, HEADER - 4, x + 1, plot_bottom, LIGHT);
    }
    for (i, row) in results.rows.iter().enumerate() {
        let y = HEADER + i * ROW;
        let label = format!("{} CPU {}", row.smp, row.metric.label);
        c.text(
            LABEL_X,
            y + 5,
            &fit(&label, (PLOT_X0 - LABEL_X) / ADVANCE - 1),
            BLACK,
        );
        match row.ratio() {
            Some(ratio) => {
                let x = x_of(advantage(ratio, row.metric.better));
                let (x0, x1, colour) = if x >= mid {
                    (mid, x, GREEN)
                } else {
                    (x, mid, RED)
                };
                c.rect(x0, y + 4, x1.max(x0 + 2), y + ROW - 4, colour);
                c.text(VALUE_X, y + 5, &format!("{ratio:.2}"), BLACK);
            }
            None => {
                c.text(VALUE_X, y + 5, "N/A", GREY);
            }
        }
    }
    c.rect(mid, HEADER - 6, mid + 2, plot_bottom + 4, BLACK);
    for (factor, label) in [
        (0.125, "1/8"),
        (0.5, "1/2"),
        (1.0, "1"),
        (2.0, "2"),
        (8.0, "8"),
    ] {
        let x = x_of(factor);
        let w = label.len() * ADVANCE;
        c.text(x.saturating_sub(w / 2), plot_bottom + 10, label, GREY);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::super::results::Meta;
    use super::*;

    #[test]
    fn the_scale_is_logarithmic_and_centred_on_one() {
        let mid = x_of(1.0);
        assert_eq!(mid, (PLOT_X0 + PLOT_X1) / 2);
        assert_eq!(x_of(2.0) - mid, mid - x_of(0.5));
        assert_eq!(x_of(100.0), PLOT_X1);
        assert_eq!(x_of(0.0001), PLOT_X0);
        // Lower-is-better: half the latency is twice as good.
        assert_eq!(advantage(0.5, Better::Lower), 2.0);
        assert_eq!(advantage(0.5, Better::Higher), 0.5);
    }

    #[test]
    fn bars_are_drawn_where_ratios_exist() {
        let mut r = Results::new(Meta::default(), &[1]);
        r.record(1, System::Halyard, "rr_rate", 0, Ok(4000.0));
        r.record(1, System::Linux, "rr_rate", 0, Ok(2000.0));
        r.record(1, System::Halyard, "ping_p50", 0, Ok(1.0));
        r.record(1, System::Linux, "ping_p50", 0, Ok(0.5));
        let mut c = Canvas::new(10, 10);
        c.rect(2, 2, 4, 3, RED);
        assert_eq!(c.pixels.iter().filter(|&&p| p == RED).count(), 2);
        assert_eq!(&render(&r)[1..4], b"PNG");
        let canvas = draw(&r);
        let idx = |id: &str| r.rows.iter().position(|row| row.metric.id == id).unwrap();
        let y_of = |i: usize| HEADER + i * ROW + ROW / 2;
        let at = |x: usize, y: usize| canvas.pixels[y * WIDTH + x];
        // Twice the rate: green right of the middle; twice the latency: red left of it.
        assert_eq!(at(x_of(1.5), y_of(idx("rr_rate"))), GREEN);
        assert_eq!(at(x_of(0.7), y_of(idx("ping_p50"))), RED);
        assert_eq!(at(x_of(1.5), y_of(idx("conn_rate"))), WHITE);
        assert_eq!(fit("abcdefgh", 6), "abc...");
    }
}
