//! Free-text PII scanner for anonymous and code-name records (consent.md: no free text "that
//! matches a PII pattern (SSN, phone, email, a full date, a street address, an HIV/AIDS
//! status)").
//!
//! Written by hand over chars (no regex crate). The text is first normalized one character at
//! a time (full-width and other Unicode digits become ASCII digits, Unicode dashes and spaces
//! become `-` and ` `, zero-width characters are dropped), so "１２３-４５-６７８９" is found
//! like "123-45-6789"; every span is reported in the original text's byte offsets.
//!
//! Every match must stand alone: it may not touch a letter or digit on either side (so digit
//! runs inside longer runs, and hex runs inside UUIDs, never match) and may not follow `$`
//! (money). A numeric match may also not be one link of a longer chain joined by its own
//! separator, such as `10.312.555.0100` or `192.168.100.1000`; a different separator does not
//! chain, so both dates of `12/31/1999-01/01/2000` are found.

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
    /// A street address or post office box.
    Address,
    /// Wording that discloses HIV/AIDS status (consent.md and the Spokane job aid: PII).
    HivAids,
}

impl PiiKind {
    pub const ALL: [PiiKind; 6] = [
        PiiKind::Ssn,
        PiiKind::Phone,
        PiiKind::Email,
        PiiKind::Date,
        PiiKind::Address,
        PiiKind::HivAids,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            PiiKind::Ssn => "ssn",
            PiiKind::Phone => "phone",
            PiiKind::Email => "email",
            PiiKind::Date => "date",
            PiiKind::Address => "address",
            PiiKind::HivAids => "hiv_aids",
        }
    }
}

/// One match: its kind and its byte range in the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiSpan {
    pub kind: PiiKind,
    pub start: usize,
    pub end: usize,
}

/// Every match in `text`, in order of start.
pub fn pii_spans(text: &str) -> Vec<PiiSpan> {
    let s = Scan::new(text);
    let mut out = Vec::new();
    let mut push = |kind, a: usize, b: usize| {
        out.push(PiiSpan {
            kind,
            start: s.byte(a),
            end: s.byte(b),
        })
    };
    for i in 0..s.c.len() {
        if s.c[i] == '@' {
            if let Some((a, b)) = s.email_around(i) {
                push(PiiKind::Email, a, b);
            }
        }
        if !s.left_ok(i) {
            continue;
        }
        if s.digit(i) || s.at(i) == Some('+') || s.at(i) == Some('(') {
            if let Some(e) = s.ssn_at(i) {
                push(PiiKind::Ssn, i, e);
            }
            if let Some(e) = s.phone_at(i) {
                push(PiiKind::Phone, i, e);
            }
        }
        if s.c[i].is_ascii_alphanumeric() {
            if let Some(e) = s.date_at(i) {
                push(PiiKind::Date, i, e);
            }
        }
        if s.digit(i) || s.is(i, &['P', 'p']) {
            if let Some(e) = s.address_at(i) {
                push(PiiKind::Address, i, e);
            }
        }
        if s.c[i].is_ascii_alphabetic() {
            if let Some(e) = s.hiv_at(i) {
                push(PiiKind::HivAids, i, e);
            }
        }
    }
    out.sort_by_key(|p| (p.start, p.end));
    out
}

/// The distinct kinds of PII found in `text`, in [`PiiKind`] order.
pub fn scan_pii(text: &str) -> Vec<PiiKind> {
    let mut kinds: Vec<PiiKind> = pii_spans(text).into_iter().map(|p| p.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

pub fn contains_pii(text: &str) -> bool {
    !pii_spans(text).is_empty()
}

/// One character of the normalized text: ASCII for every look-alike the scanner cares about.
/// `None` drops the character (zero-width characters and soft hyphens).
pub fn normalize_char(ch: char) -> Option<char> {
    let u = ch as u32;
    // Decimal digits of other scripts and of mathematical alphanumerics: the first of each run of ten.
    const ZEROS: [u32; 25] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1D7CE, 0x1D7D8,
        0x1D7E2, 0x1D7EC, 0x1D7F6,
    ];
    if ch.is_ascii() {
        return Some(ch);
    }
    if let Some(z) = ZEROS.iter().find(|z| (**z..**z + 10).contains(&u)) {
        return char::from_u32('0' as u32 + u - z);
    }
    Some(match u {
        // Full-width ASCII (digits, letters, punctuation).
        0xFF01..=0xFF5E => return char::from_u32(u - 0xFEE0),
        0x2070 | 0x2080 => '0',
        0x00B9 | 0x2081 => '1',
        0x00B2 | 0x2082 => '2',
        0x00B3 | 0x2083 => '3',
        0x2074..=0x2079 => return char::from_u32('4' as u32 + u - 0x2074),
        0x2084..=0x2089 => return char::from_u32('4' as u32 + u - 0x2084),
        0x2460..=0x2468 => return char::from_u32('1' as u32 + u - 0x2460),
        0x2010..=0x2015 | 0x2212 | 0xFE58 | 0xFE63 => '-',
        0x00A0 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => ' ',
        0x2024 | 0xFE52 => '.',
        0xFE6B => '@',
        0x2044 | 0x2215 => '/',
        0x200B..=0x200D | 0x2060 | 0xFEFF | 0x00AD => return None,
        _ => ch,
    })
}

struct Scan {
    c: Vec<char>,
    /// The original byte offset of each normalized char, and the text's length at the end.
    at_byte: Vec<usize>,
}

const CHAIN: [char; 4] = ['-', '.', '/', ':'];
const PHONE_SEP: [char; 3] = ['-', '.', ' '];
const GROUP_LINKS: &[char] = &['-', '.'];

/// `text` normalized by [`normalize_char`], with the original byte offset of each char and, last,
/// the text's length.
pub(crate) fn normalized(text: &str) -> (Vec<char>, Vec<usize>) {
    let mut c = Vec::with_capacity(text.len());
    let mut at_byte = Vec::with_capacity(text.len() + 1);
    for (b, ch) in text.char_indices() {
        if let Some(n) = normalize_char(ch) {
            c.push(n);
            at_byte.push(b);
        }
    }
    at_byte.push(text.len());
    (c, at_byte)
}

impl Scan {
    fn new(text: &str) -> Scan {
        let (c, at_byte) = normalized(text);
        Scan { c, at_byte }
    }

    /// The original byte offset of normalized position `i` (a span's end maps to the byte after
    /// its last char).
    fn byte(&self, i: usize) -> usize {
        self.at_byte[i.min(self.c.len())]
    }

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

    /// 123-45-6789, 123 45 6789, 123.45.6789 (one separator throughout), 123456789.
    fn ssn_at(&self, s: usize) -> Option<usize> {
        let grouped = || {
            let a = self.exact(s, 3)?;
            let sep = self.at(a).filter(|ch| matches!(ch, '-' | ' ' | '.'))?;
            let b = self.exact(a + 1, 2)?;
            (self.at(b) == Some(sep)).then_some(())?;
            let e = self.exact(b + 1, 4)?;
            let links: &[char] = match sep {
                '-' => &['-'],
                '.' => &['.'],
                _ => &[],
            };
            self.alone(s, e, links).then_some(e)
        };
        grouped().or_else(|| {
            let e = self.exact(s, 9)?;
            self.alone(s, e, &CHAIN).then_some(e)
        })
    }

    fn phone_at(&self, s: usize) -> Option<usize> {
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
            .find_map(|(e, links)| {
                if self.alone(s, e, links) {
                    Some(e)
                } else if self.left_free(s, links) && self.is(e, &['x', 'X']) && self.digit(e + 1) {
                    let mut k = e + 1;
                    while self.digit(k) {
                        k += 1;
                    }
                    Some(k)
                } else {
                    None
                }
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

    /// The address around the `@` at `at`: (start, end).
    fn email_around(&self, at: usize) -> Option<(usize, usize)> {
        let local = |ch: char| ch.is_ascii_alphanumeric() || "._%+-".contains(ch);
        let mut b = at;
        while b > 0 && local(self.c[b - 1]) {
            b -= 1;
        }
        if !self.c[b..at].iter().any(char::is_ascii_alphanumeric) {
            return None;
        }
        let mut e = at + 1;
        while self
            .at(e)
            .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
        {
            e += 1;
        }
        // A sentence may end right after the address.
        while e > at + 1 && matches!(self.c[e - 1], '.' | '-') {
            e -= 1;
        }
        let domain: String = self.c[at + 1..e].iter().collect();
        let labels: Vec<&str> = domain.split('.').collect();
        let tld = labels[labels.len() - 1];
        let ok = labels.len() >= 2
            && labels
                .iter()
                .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
            && tld.len() >= 2
            && tld.bytes().all(|b| b.is_ascii_alphabetic());
        ok.then_some((b, e))
    }

    fn date_at(&self, s: usize) -> Option<usize> {
        self.numeric_date(s)
            .or_else(|| self.iso_date(s))
            .or_else(|| self.month_first(s))
            .or_else(|| self.day_first(s))
    }

    /// 3/13/2001, 13.03.2001, 03-13-2001 (month or day first), and 3/13/01 with slashes only.
    fn numeric_date(&self, s: usize) -> Option<usize> {
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
        (ok && self.alone(s, e, &[sep])).then_some(e)
    }

    /// 2001-03-13 (also with / or .), alone or as the start of a 2001-03-13T10:30 timestamp.
    fn iso_date(&self, s: usize) -> Option<usize> {
        let (a, year) = self.run(s, 4, 4)?;
        let sep = self.at(a).filter(|ch| ['/', '-', '.'].contains(ch))?;
        let (b, m) = self.run(a + 1, 1, 2)?;
        (self.at(b) == Some(sep)).then_some(())?;
        let (e, d) = self.run(b + 1, 1, 2)?;
        let timestamp = self.at(e) == Some('T') && self.digit(e + 1);
        let free = self.right_free(e, &[sep]) || timestamp;
        (valid(year, m, d) && self.left_free(s, &[sep]) && free).then_some(e)
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    }

    /// The ASCII letters of the word at `i`: its end and its lowercase text.
    fn word(&self, i: usize) -> (usize, String) {
        let mut e = i;
        while self.at(e).is_some_and(|ch| ch.is_ascii_alphabetic()) {
            e += 1;
        }
        let w = self.c[i..e].iter().collect::<String>().to_ascii_lowercase();
        (e, w)
    }

    fn month_word(&self, i: usize) -> Option<(usize, u64)> {
        let (e, w) = self.word(i);
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
    fn month_first(&self, s: usize) -> Option<usize> {
        let (a, m) = self.month_word(s)?;
        let b = self.skip_ws(a);
        (b > a).then_some(())?;
        let (c, d) = self.day(b)?;
        let (e, y) = self.gap_then_year(c)?;
        (valid(y, m, d) && self.right_free(e, &[])).then_some(e)
    }

    /// "13 March 2001", "13th of March, 2001", "13-Mar-2001".
    fn day_first(&self, s: usize) -> Option<usize> {
        let (a, d) = self.day(s)?;
        let e = if self.at(a) == Some('-') {
            let (b, m) = self.month_word(a + 1)?;
            (self.at(b) == Some('-')).then_some(())?;
            let (e, y) = self.run(b + 1, 4, 4)?;
            valid(y, m, d).then_some(e)?
        } else {
            let mut b = self.skip_ws(a);
            (b > a).then_some(())?;
            let of: String = self.c[b..(b + 2).min(self.c.len())].iter().collect();
            if of.eq_ignore_ascii_case("of") && self.at(b + 2).is_some_and(char::is_whitespace) {
                b = self.skip_ws(b + 2);
            }
            let (c, m) = self.month_word(b)?;
            let (e, y) = self.gap_then_year(c)?;
            valid(y, m, d).then_some(e)?
        };
        self.right_free(e, &[]).then_some(e)
    }

    /// One space-separated token after `i` (spaces skipped, at least one): its start, end and
    /// lowercase text, the end past an abbreviation's period.
    fn next_token(&self, i: usize) -> Option<(usize, usize, String)> {
        let b = self.skip_ws(i);
        (b > i && b - i <= 2).then_some(())?;
        let mut e = b;
        while self
            .at(e)
            .is_some_and(|ch| ch.is_alphanumeric() || ch == '\'' || ch == '-')
        {
            e += 1;
        }
        (e > b).then_some(())?;
        let w = self.c[b..e].iter().collect::<String>().to_lowercase();
        let e = if self.at(e) == Some('.') { e + 1 } else { e };
        Some((b, e, w))
    }

    /// "808 W Spokane Falls Blvd", "12 Main St Apt 4", "4502 N 3rd Ave #12", "PO Box 311".
    /// The street name's words are capitalized (or ordinals); only an abbreviated suffix
    /// (st, ave, blvd, rd, ln) follows lowercase words, at most two, so "walked 3 blocks down
    /// the road" stays clean.
    fn address_at(&self, s: usize) -> Option<usize> {
        if !self.digit(s) {
            return self.po_box(s);
        }
        let (a, _) = self.run(s, 1, 6)?;
        let a = if self.at(a).is_some_and(|c| c.is_ascii_alphabetic())
            && !self.at(a + 1).is_some_and(char::is_alphanumeric)
        {
            a + 1 // 12B Main St
        } else {
            a
        };
        let mut i = a;
        let mut first = true;
        let mut names = 0;
        let mut lower = 0;
        loop {
            let (b, e, w) = self.next_token(i)?;
            let bare = w.trim_end_matches('.');
            if first && DIRECTIONS.contains(&bare) {
                first = false;
                i = e;
                continue;
            }
            first = false;
            if names > 0 && STREET_SUFFIXES.contains(&bare) {
                let lower_ok = lower == 0 || (lower <= 2 && LOWER_SUFFIXES.contains(&bare));
                if lower_ok && !self.at(e).is_some_and(char::is_alphanumeric) {
                    return Some(self.unit_after(e));
                }
            }
            let ch = self.c[b];
            let ordinal = ch.is_ascii_digit()
                && ["st", "nd", "rd", "th"].iter().any(|x| bare.ends_with(x))
                && bare.len() <= 6;
            if !(ch.is_uppercase() || ordinal || ch.is_lowercase()) {
                return None;
            }
            if ch.is_lowercase() {
                lower += 1;
            }
            names += 1;
            if names > 4 {
                return None;
            }
            i = e;
        }
    }

    /// An apartment or unit after a street ("Apt 4", "Unit 2B", "#12"), included in the span.
    fn unit_after(&self, e: usize) -> usize {
        let mut i = e;
        if self.at(i) == Some(',') {
            i += 1;
        }
        let b = self.skip_ws(i);
        if self.at(b) == Some('#') {
            let mut k = b + 1;
            while self.at(k).is_some_and(|c| c.is_ascii_alphanumeric()) {
                k += 1;
            }
            return if k > b + 1 { k } else { e };
        }
        let Some((_, we, w)) = self.next_token(i) else {
            return e;
        };
        if !UNITS.contains(&w.trim_end_matches('.')) {
            return e;
        }
        let v = self.skip_ws(we);
        let v = if self.at(v) == Some('#') { v + 1 } else { v };
        let mut k = v;
        while self.at(k).is_some_and(|c| c.is_ascii_alphanumeric()) {
            k += 1;
        }
        if k > v {
            k
        } else {
            e
        }
    }

    /// "PO Box 311", "P.O. Box 311", "P O Box 311".
    fn po_box(&self, s: usize) -> Option<usize> {
        let mut i = s;
        let mut letters = String::new();
        while letters.len() < 2 {
            match self.at(i) {
                Some(c) if c.eq_ignore_ascii_case(&'p') && letters.is_empty() => letters.push('p'),
                Some(c) if c.eq_ignore_ascii_case(&'o') && letters.len() == 1 => letters.push('o'),
                Some('.') | Some(' ') if !letters.is_empty() => {}
                _ => return None,
            }
            i += 1;
        }
        if self.at(i) == Some('.') {
            i += 1;
        }
        let (_, e, w) = self.next_token(i)?;
        (w == "box").then_some(())?;
        let b = self.skip_ws(e);
        let (k, _) = self.run(b, 1, 8)?;
        (b > e && self.right_free(k, &[])).then_some(k)
    }

    /// Wording that discloses HIV/AIDS status: "HIV", "HIV+", "AIDS" (capitals: "hearing aids"
    /// is not), "PLWH(A)", "HOPWA", "Ryan White", "viral load", "CD4", antiretroviral and PrEP
    /// medication.
    fn hiv_at(&self, s: usize) -> Option<usize> {
        let mut e = s;
        while self.at(e).is_some_and(|ch| ch.is_alphanumeric()) {
            e += 1;
        }
        let raw: String = self.c[s..e].iter().collect();
        let w = raw.to_lowercase();
        let single = match w.as_str() {
            "hiv" | "plwh" | "plwha" | "hopwa" | "cd4" | "seropositive" | "serostatus"
            | "antiretroviral" | "antiretrovirals" | "arv" | "arvs" | "truvada" | "descovy"
            | "biktarvy" | "genvoya" | "triumeq" | "odefsey" | "stribild" | "dovato" => true,
            "aids" => raw == "AIDS",
            "prep" => raw == "PrEP",
            _ => false,
        };
        if single {
            return Some(if self.at(e) == Some('+') { e + 1 } else { e });
        }
        let pair = |second: &str| -> Option<usize> {
            let (_, e2, w2) = self.next_token(e)?;
            (w2.trim_end_matches('.') == second).then_some(e2)
        };
        match w.as_str() {
            "ryan" => pair("white"),
            "viral" => pair("load"),
            _ => None,
        }
    }
}

const DIRECTIONS: [&str; 12] = [
    "n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west",
];

const STREET_SUFFIXES: [&str; 32] = [
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "boulevard",
    "blvd",
    "road",
    "rd",
    "drive",
    "dr",
    "lane",
    "ln",
    "way",
    "court",
    "ct",
    "place",
    "pl",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "terrace",
    "ter",
    "circle",
    "cir",
    "trail",
    "trl",
    "crescent",
    "pike",
    "alley",
    "plaza",
];

/// Suffixes that may follow a lowercase street name ("12 main st").
const LOWER_SUFFIXES: [&str; 7] = ["st", "ave", "blvd", "rd", "ln", "hwy", "pkwy"];

const UNITS: [&str; 8] = [
    "apt",
    "apartment",
    "unit",
    "suite",
    "ste",
    "rm",
    "room",
    "lot",
];

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
