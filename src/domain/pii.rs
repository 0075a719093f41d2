//! Free-text PII scanner for anonymous records (consent.md: no free text "that matches a PII
//! pattern (SSN, phone, email, a full date)").
//!
//! Written by hand over chars (no regex crate). Every match must stand alone: it may not touch
//! a letter or digit on either side (so digit runs inside longer runs, and hex runs inside
//! UUIDs, never match) and may not follow `$` (money). A numeric match may also not be one link
//! of a longer chain joined by its own separator, such as `10.312.555.0100` or
//! `192.168.100.1000`; a different separator does not chain, so both dates of
//! `12/31/1999-01/01/2000` are found.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Declaration order is the order `scan_pii` reports kinds in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Ssn,
    Phone,
    Email,
    Date,
}

impl PiiKind {
    pub const ALL: [PiiKind; 4] = [PiiKind::Ssn, PiiKind::Phone, PiiKind::Email, PiiKind::Date];

    pub fn as_str(&self) -> &'static str {
        match self {
            PiiKind::Ssn => "ssn",
            PiiKind::Phone => "phone",
            PiiKind::Email => "email",
            PiiKind::Date => "date",
        }
    }
}

/// The distinct kinds of PII found in `text`, in [`PiiKind`] order.
pub fn scan_pii(text: &str) -> Vec<PiiKind> {
    let s = Scan {
        c: text.chars().collect(),
    };
    let mut found = [false; 4];
    for i in 0..s.c.len() {
        if s.c[i] == '@' && !found[2] {
            found[2] = s.email_around(i);
        }
        if !s.left_ok(i) {
            continue;
        }
        found[0] = found[0] || s.ssn_at(i);
        found[1] = found[1] || s.phone_at(i);
        found[3] = found[3] || s.date_at(i);
    }
    PiiKind::ALL
        .into_iter()
        .zip(found)
        .filter_map(|(k, f)| f.then_some(k))
        .collect()
}

pub fn contains_pii(text: &str) -> bool {
    !scan_pii(text).is_empty()
}

struct Scan {
    c: Vec<char>,
}

const CHAIN: [char; 4] = ['-', '.', '/', ':'];
const PHONE_SEP: [char; 3] = ['-', '.', ' '];
const GROUP_LINKS: &[char] = &['-', '.'];

impl Scan {
    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }

    fn is(&self, i: usize, set: &[char]) -> bool {
        self.at(i).is_some_and(|ch| set.contains(&ch))
    }

    fn digit(&self, i: usize) -> bool {
        self.at(i).is_some_and(|ch| ch.is_ascii_digit())
    }

    fn left_ok(&self, s: usize) -> bool {
        s == 0 || !(self.c[s - 1].is_alphanumeric() || self.c[s - 1] == '$')
    }

    /// `[s, e)` is not linked by one of `links` to a digit on either side, and ends at a
    /// boundary (`left_ok` was checked before any matcher ran).
    fn alone(&self, s: usize, e: usize, links: &[char]) -> bool {
        self.left_free(s, links) && self.right_free(e, links)
    }

    fn left_free(&self, s: usize, links: &[char]) -> bool {
        !(s >= 2 && links.contains(&self.c[s - 1]) && self.digit(s - 2))
    }

    fn right_free(&self, e: usize, links: &[char]) -> bool {
        match self.at(e) {
            None => true,
            Some(n) => !(n.is_alphanumeric() || links.contains(&n) && self.digit(e + 1)),
        }
    }

    /// A run of exactly `lo..=hi` ASCII digits starting at `i`: (end, value).
    fn run(&self, i: usize, lo: usize, hi: usize) -> Option<(usize, u64)> {
        let mut e = i;
        let mut v: u64 = 0;
        while self.digit(e) {
            v = v
                .saturating_mul(10)
                .saturating_add(self.c[e] as u64 - '0' as u64);
            e += 1;
        }
        (lo..=hi).contains(&(e - i)).then_some((e, v))
    }

    fn exact(&self, i: usize, n: usize) -> Option<usize> {
        self.run(i, n, n).map(|(e, _)| e)
    }

    fn ssn_at(&self, s: usize) -> bool {
        let grouped = || {
            let a = self.exact(s, 3)?;
            let sep = self.at(a).filter(|ch| *ch == '-' || *ch == ' ')?;
            let b = self.exact(a + 1, 2)?;
            (self.at(b) == Some(sep)).then_some(())?;
            let e = self.exact(b + 1, 4)?;
            Some(self.alone(s, e, if sep == '-' { &['-'] } else { &[] }))
        };
        grouped()
            .or_else(|| self.exact(s, 9).map(|e| self.alone(s, e, &CHAIN)))
            .unwrap_or(false)
    }

    fn phone_at(&self, s: usize) -> bool {
        let mut starts = vec![s];
        if self.at(s) == Some('+') && self.at(s + 1) == Some('1') {
            starts.push(s + 2);
            if self.is(s + 2, &PHONE_SEP) {
                starts.push(s + 3);
            }
        } else if self.at(s) == Some('1') && self.is(s + 1, &PHONE_SEP) {
            starts.push(s + 2);
        } else if self.at(s) == Some('1') && self.at(s + 1) == Some('(') {
            starts.push(s + 1);
        }
        starts
            .into_iter()
            .filter_map(|p| self.phone_core(p))
            .any(|(e, links)| {
                self.alone(s, e, links)
                    || self.left_free(s, links) && self.is(e, &['x', 'X']) && self.digit(e + 1)
            })
    }

    /// The ten-digit part; area code and exchange start with 2-9 in every real US number.
    /// Returns the end and the separators that would chain it (space never does: "call 2 312
    /// 555 0100" is a phone number after a count).
    fn phone_core(&self, p: usize) -> Option<(usize, &'static [char])> {
        let nanp = |i: usize| self.at(i).is_some_and(|ch| ('2'..='9').contains(&ch));
        let (area, exch, end, links) = if self.at(p) == Some('(') {
            let a = self.exact(p + 1, 3)?;
            (self.at(a) == Some(')')).then_some(())?;
            let q = if self.is(a + 1, &[' ', '-']) {
                a + 2
            } else {
                a + 1
            };
            let b = self.exact(q, 3)?;
            self.is(b, &PHONE_SEP).then_some(())?;
            (p + 1, q, self.exact(b + 1, 4)?, GROUP_LINKS)
        } else if let Some(e) = self.exact(p, 10) {
            (p, p + 3, e, &CHAIN[..])
        } else {
            let a = self.exact(p, 3)?;
            self.is(a, &PHONE_SEP).then_some(())?;
            let b = self.exact(a + 1, 3)?;
            self.is(b, &PHONE_SEP).then_some(())?;
            (p, a + 1, self.exact(b + 1, 4)?, GROUP_LINKS)
        };
        (nanp(area) && nanp(exch)).then_some((end, links))
    }

    fn email_around(&self, at: usize) -> bool {
        let local = |ch: char| ch.is_ascii_alphanumeric() || "._%+-".contains(ch);
        let mut b = at;
        while b > 0 && local(self.c[b - 1]) {
            b -= 1;
        }
        if !self.c[b..at].iter().any(char::is_ascii_alphanumeric) {
            return false;
        }
        let mut e = at + 1;
        while self
            .at(e)
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
        {
            e += 1;
        }
        // A sentence may end right after the address.
        let domain: String = self.c[at + 1..e].iter().collect();
        let domain = domain.trim_end_matches(['.', '-']);
        let labels: Vec<&str> = domain.split('.').collect();
        let tld = labels[labels.len() - 1];
        labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
            && tld.len() >= 2
            && tld.bytes().all(|b| b.is_ascii_alphabetic())
    }

    fn date_at(&self, s: usize) -> bool {
        self.numeric_date(s) || self.iso_date(s) || self.month_first(s) || self.day_first(s)
    }

    /// 3/13/2001, 13.03.2001, 03-13-2001 (month or day first), and 3/13/01 with slashes only.
    fn numeric_date(&self, s: usize) -> bool {
        let f = || {
            let (a, x) = self.run(s, 1, 2)?;
            let sep = self.at(a).filter(|ch| ['/', '-', '.'].contains(ch))?;
            let (b, y) = self.run(a + 1, 1, 2)?;
            (self.at(b) == Some(sep)).then_some(())?;
            let (e, year) = match self.run(b + 1, 4, 4) {
                Some(r) => r,
                None if sep == '/' => self.run(b + 1, 2, 2).map(|(e, v)| (e, 2000 + v))?,
                None => return None,
            };
            let ok = valid(year, x, y) || valid(year, y, x);
            Some(ok && self.alone(s, e, &[sep]))
        };
        f().unwrap_or(false)
    }

    /// 2001-03-13 (also with / or .), alone or as the start of a 2001-03-13T10:30 timestamp.
    fn iso_date(&self, s: usize) -> bool {
        let f = || {
            let (a, year) = self.run(s, 4, 4)?;
            let sep = self.at(a).filter(|ch| ['/', '-', '.'].contains(ch))?;
            let (b, m) = self.run(a + 1, 1, 2)?;
            (self.at(b) == Some(sep)).then_some(())?;
            let (e, d) = self.run(b + 1, 1, 2)?;
            let timestamp = self.at(e) == Some('T') && self.digit(e + 1);
            let free = self.right_free(e, &[sep]) || timestamp;
            Some(valid(year, m, d) && self.left_free(s, &[sep]) && free)
        };
        f().unwrap_or(false)
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    }

    fn month_word(&self, i: usize) -> Option<(usize, u64)> {
        let mut e = i;
        while self.at(e).is_some_and(|ch| ch.is_ascii_alphabetic()) {
            e += 1;
        }
        let w: String = self.c[i..e].iter().collect::<String>().to_ascii_lowercase();
        let m = month_number(&w)?;
        Some((if self.at(e) == Some('.') { e + 1 } else { e }, m))
    }

    /// A day of month with an optional ordinal suffix ("13", "13th").
    fn day(&self, i: usize) -> Option<(usize, u64)> {
        let (e, d) = self.run(i, 1, 2)?;
        let suffix: String = self.c[e..(e + 2).min(self.c.len())].iter().collect();
        let sfx = ["st", "nd", "rd", "th"].contains(&suffix.to_ascii_lowercase().as_str());
        let e = if sfx { e + 2 } else { e };
        (!self.at(e).is_some_and(char::is_alphanumeric)).then_some((e, d))
    }

    /// Between the day or month and the year: spaces, a comma, or both; at least one.
    fn gap_then_year(&self, i: usize) -> Option<(usize, u64)> {
        let mut j = self.skip_ws(i);
        if self.at(j) == Some(',') {
            j = self.skip_ws(j + 1);
        }
        (j > i).then_some(())?;
        self.run(j, 4, 4)
    }

    /// "March 13, 2001", "Mar 13 2001", "Mar. 13th, 2001".
    fn month_first(&self, s: usize) -> bool {
        let f = || {
            let (a, m) = self.month_word(s)?;
            let b = self.skip_ws(a);
            (b > a).then_some(())?;
            let (c, d) = self.day(b)?;
            let (e, y) = self.gap_then_year(c)?;
            valid(y, m, d).then_some(e)
        };
        f().is_some_and(|e| self.right_free(e, &[]))
    }

    /// "13 March 2001", "13th of March, 2001", "13-Mar-2001".
    fn day_first(&self, s: usize) -> bool {
        let f = || {
            let (a, d) = self.day(s)?;
            if self.at(a) == Some('-') {
                let (b, m) = self.month_word(a + 1)?;
                (self.at(b) == Some('-')).then_some(())?;
                let (e, y) = self.run(b + 1, 4, 4)?;
                return valid(y, m, d).then_some(e);
            }
            let mut b = self.skip_ws(a);
            (b > a).then_some(())?;
            let of: String = self.c[b..(b + 2).min(self.c.len())].iter().collect();
            if of.eq_ignore_ascii_case("of") && self.at(b + 2).is_some_and(char::is_whitespace) {
                b = self.skip_ws(b + 2);
            }
            let (c, m) = self.month_word(b)?;
            let (e, y) = self.gap_then_year(c)?;
            valid(y, m, d).then_some(e)
        };
        f().is_some_and(|e| self.right_free(e, &[]))
    }
}

fn valid(year: u64, month: u64, day: u64) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (
        i32::try_from(year),
        u32::try_from(month),
        u32::try_from(day),
    ) else {
        return false;
    };
    NaiveDate::from_ymd_opt(y, m, d).is_some()
}

fn month_number(w: &str) -> Option<u64> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if w == "sept" {
        return Some(9);
    }
    NAMES
        .iter()
        .position(|n| w == *n || w.len() == 3 && n.starts_with(w))
        .map(|i| i as u64 + 1)
}

// The cases outnumber the code, so they live in pii/tests.rs.
#[cfg(test)]
mod tests;
