//! Writing rows fast, byte for byte as `format!("{}")` writes them.
//!
//! The large interchange files (2.8 million truth rows for raid-1000; a tracks.csv row per
//! confirmed-track update) spent a third of the simulator's run and a tenth of the tracker's
//! formatting floats with `std::fmt`. `ryu` finds the same shortest round-trip digits as the
//! standard library; [`push_f64`] lays them out the way `{}` does (plain decimal, never an
//! exponent, `-0` for negative zero). The test `matches_std_display_on_random_and_edge_values`
//! holds the two to identical bytes, and the row tests in `records` hold every row type's
//! `write_row` to the `{}` form. (docs/decisions/0303, 0407)

use std::cell::RefCell;
use std::io::{self, Write};

/// Whether the shortest round-trip digits of `v` cannot be a tie between two candidates.
///
/// `ryu` breaks an exact tie to even and `std` rounds it up, so they differ on values such as
/// 971904948923138.25. A tie at the shortest length n (≤ 17 digits) needs the exact decimal
/// expansion of `v` to have n + 1 ≤ 18 significant digits. For v = m·2^e with m odd and e < 0
/// that expansion is m·5^(−e) (odd, so no trailing zeros) and has at least
/// log10(m) + (−e)·log10(5) digits; above 20 no tie is possible. Integers (e ≥ 0) and other
/// short values go to `std`, which is fast for them anyway.
fn tie_free(v: f64) -> bool {
    let bits = v.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, mut e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    if m == 0 {
        return false;
    }
    // Make m odd: each trailing zero moves into the exponent.
    e += m.trailing_zeros() as i32;
    // log10(m) ≥ 0 is left out: cheaper, and only more cautious.
    e < 0 && f64::from(-e) * (1.0 - std::f64::consts::LOG10_2) > 20.0
}

/// Appends `v` as `format!("{v}")` would.
pub fn push_f64(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() || !tie_free(v) {
        // Non-finite values are rare in the files (readers reject them); short values could
        // be ties (see `tie_free`). Both go the standard way.
        let _ = write!(out, "{v}");
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let Some(e_at) = s.iter().position(|&c| c == b'e') else {
        // Plain decimal already, as `{}` writes it, except that ryu marks integers with ".0"
        // ("5.0", "-0.0") where `{}` writes "5", "-0".
        if neg {
            out.push(b'-');
        }
        out.extend_from_slice(s.strip_suffix(b".0").unwrap_or(s));
        return;
    };
    let (mant, exp) = match Some(e_at) {
        Some(i) => {
            let e = std::str::from_utf8(&s[i + 1..])
                .ok()
                .and_then(|x| x.parse::<i32>().ok())
                .unwrap_or(0);
            (&s[..i], e)
        }
        None => (s, 0),
    };
    let (int_part, frac_part) = match mant.iter().position(|&c| c == b'.') {
        Some(d) => (&mant[..d], &mant[d + 1..]),
        None => (mant, &[][..]),
    };
    // ryu writes at most 17 significant digits.
    let mut digit_buf = [0u8; 40];
    let n_int = int_part.len();
    let n_all = n_int + frac_part.len();
    digit_buf[..n_int].copy_from_slice(int_part);
    digit_buf[n_int..n_all].copy_from_slice(frac_part);
    let mut digits: &[u8] = &digit_buf[..n_all];
    // The decimal point sits after `point` digits.
    let mut point = int_part.len() as i32 + exp;
    let lead = digits.iter().take_while(|&&c| c == b'0').count();
    if lead == digits.len() {
        if neg {
            out.push(b'-');
        }
        out.push(b'0');
        return;
    }
    digits = &digits[lead..];
    point -= lead as i32;
    while let [rest @ .., b'0'] = digits {
        digits = rest;
    }
    if neg {
        out.push(b'-');
    }
    let n = digits.len() as i32;
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend_from_slice(digits);
    } else if point >= n {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (point - n) as usize));
    } else {
        out.extend_from_slice(&digits[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[point as usize..]);
    }
}

/// Appends `v` as `format!("{v}")` would.
pub fn push_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A value that can be one field of a row.
pub trait Field {
    fn push_to(&self, out: &mut Vec<u8>);
}

impl Field for f64 {
    fn push_to(&self, out: &mut Vec<u8>) {
        push_f64(out, *self);
    }
}

impl Field for u64 {
    fn push_to(&self, out: &mut Vec<u8>) {
        push_u64(out, *self);
    }
}

impl Field for u32 {
    fn push_to(&self, out: &mut Vec<u8>) {
        push_u64(out, u64::from(*self));
    }
}

impl Field for str {
    fn push_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

impl Field for String {
    fn push_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// Appends `fields` separated by commas.
pub fn push_fields(out: &mut Vec<u8>, fields: &[&dyn Field]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f.push_to(out);
    }
}

/// Writes `fields`, separated by commas and without newline, in one `write_all` through a line
/// buffer reused by every row of the thread (no allocation per row).
pub fn write_fields(w: &mut dyn Write, fields: &[&dyn Field]) -> io::Result<()> {
    thread_local! {
        static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    }
    LINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            push_fields(&mut line, fields);
            w.write_all(&line)
        }
        // Only if a writer called back into here while a row was being written.
        Err(_) => {
            let mut line = Vec::with_capacity(512);
            push_fields(&mut line, fields);
            w.write_all(&line)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn check(v: f64) {
        let mut out = Vec::new();
        push_f64(&mut out, v);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{v}"),
            "bits {:#x}",
            v.to_bits()
        );
    }

    #[test]
    fn matches_std_display_on_random_and_edge_values() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.2 + 0.1,
            1e-7,
            1.5e-300,
            1e16,
            1e21,
            1e22,
            123456789.125,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            4.0e6 / 3.0,
            9007199254740993.0,
            -3_123_456.789_012_345,
            7_000.125,
            2.0f64.powi(60),
            0.3,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            check(v);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..300_000 {
            // Arbitrary bit patterns cover every exponent...
            let v = f64::from_bits(rng.random::<u64>());
            if v.is_finite() {
                check(v);
            }
            // ...and values of the sizes truth actually holds.
            let scale = 10f64.powi(rng.random_range(-3..8));
            check((rng.random::<f64>() - 0.5) * scale);
            check((rng.random_range(0..100_000) as f64) * 0.1);
        }
    }
}
