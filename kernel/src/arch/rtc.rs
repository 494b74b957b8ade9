//! The CMOS real-time clock: the wall-clock time once, at boot.
//!
//! QEMU's RTC (MC146818) holds the host's UTC time. It is read once (twice until two
//! reads agree, as an update may be in progress) and turned into seconds since the Unix
//! epoch; `CLOCK_REALTIME` is that plus the monotonic clock ([`crate::time`]).
use super::cpu::{inb, outb};

const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;

fn read(reg: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the CMOS index and data registers; bit 7 of the index
    // (NMI disable) stays clear.
    unsafe {
        outb(INDEX, reg & 0x7f);
        inb(DATA)
    }
}

fn snapshot() -> [u8; 7] {
    while read(0x0a) & 0x80 != 0 {
        core::hint::spin_loop(); // update in progress
    }
    [
        read(0x00),
        read(0x02),
        read(0x04),
        read(0x07),
        read(0x08),
        read(0x09),
        read(0x32),
    ]
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the Unix epoch, from the RTC.
pub fn unix_seconds() -> u64 {
    let mut a = snapshot();
    loop {
        let b = snapshot();
        if a == b {
            break;
        }
        a = b;
    }
    let status_b = read(0x0b);
    let bcd = status_b & 0x04 == 0;
    let conv = |v: u8| if bcd { (v & 0x0f) + (v >> 4) * 10 } else { v };
    let [sec, min, hour_raw, day, month, year, century] = a;
    let pm = hour_raw & 0x80 != 0;
    let mut hour = conv(hour_raw & 0x7f);
    if status_b & 0x02 == 0 {
        // 12-hour mode.
        hour = (hour % 12) + if pm { 12 } else { 0 };
    }
    let century = match conv(century) {
        c @ 19..=21 => u32::from(c),
        _ => 20,
    };
    let year = century * 100 + u32::from(conv(year));
    let days = days_from_civil(
        i64::from(year),
        u32::from(conv(month)),
        u32::from(conv(day)),
    );
    let secs =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(conv(min)) * 60 + i64::from(conv(sec));
    secs.max(0) as u64
}
