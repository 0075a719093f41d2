//! Scrubbing free text for de-identification (Spokane job aid, consent.md "De-identify an
//! existing client"): every span the PII scanner matches, and every occurrence of a client's
//! former values (names, alias, SSN in any format and its last four, date of birth in common
//! formats, contact values), is replaced by [`REMOVED`]. Pure: no I/O, no clock.

use chrono::NaiveDate;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};
use unicode_normalization::UnicodeNormalization;

use crate::domain::pii::{normalize_char, normalized, pii_spans};

/// What replaces a removed span.
pub const REMOVED: &str = "[removed]";

/// The former values to remove, normalized and lowercased, matched as whole words.
#[derive(Debug, Clone, Default)]
pub struct Needles {
    needles: Vec<Vec<char>>,
    /// Matched in free text only (an SSN's last four): in structured text such as a stored
    /// response they could be part of an id.
    text_only: Vec<Vec<char>>,
    /// The digits of an SSN and of a date of birth written with four-digit years, found in free
    /// text inside any run of digits, whatever separates the digits or stands around the run
    /// (`ssn:618-23-4471x`, `dob19830722`, `6 1 8 2 3 4 4 7 1`).
    digits_within: Vec<String>,
    /// Shorter digit forms (an SSN's last four, a date of birth with a two-digit year or
    /// unpadded parts), found in free text as a whole run of digits (`ref4471`).
    digits_whole: Vec<String>,
    /// Full names ([`Needles::add_naming_parts`]), each as the word patterns that name the
    /// person, matched over any separators a person types between words ([`name_ranges`]).
    names: Vec<Vec<NamePart>>,
}

/// One word of a full name's pattern.
#[derive(Debug, Clone, PartialEq)]
enum NamePart {
    /// A word, as [`compat_folded`] writes it.
    Word(Vec<char>),
    /// Any one-letter word (a middle initial, with or without its dot).
    Initial,
}

fn fold(ch: char) -> char {
    ch.to_lowercase().next().unwrap_or(ch)
}

impl Needles {
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
            && self.text_only.is_empty()
            && self.digits_within.is_empty()
            && self.digits_whole.is_empty()
            && self.names.is_empty()
    }

    fn push_digits(&mut self, s: &str) {
        let d: String = s.chars().filter(char::is_ascii_digit).collect();
        let list = if d.len() >= 8 {
            &mut self.digits_within
        } else {
            &mut self.digits_whole
        };
        if d.len() >= 4 && !list.contains(&d) {
            list.push(d);
        }
    }

    fn push(&mut self, s: &str) {
        let n = Self::prepare(s);
        if let Some(n) = n.filter(|n| !self.needles.contains(n)) {
            self.needles.push(n);
        }
    }

    fn prepare(s: &str) -> Option<Vec<char>> {
        let n: Vec<char> = s.chars().filter_map(normalize_char).map(fold).collect();
        let trimmed: Vec<char> = {
            let start = n.iter().position(|c| !c.is_whitespace()).unwrap_or(n.len());
            let end = n
                .iter()
                .rposition(|c| !c.is_whitespace())
                .map_or(start, |e| e + 1);
            n[start..end].to_vec()
        };
        (trimmed.iter().filter(|c| c.is_alphanumeric()).count() >= 2).then_some(trimmed)
    }

    /// A name, alias or contact value: the whole value and each of its words of two or more
    /// letters ("Mary Ann" removes "Mary Ann", "Mary" and "Ann").
    pub fn add_value(&mut self, s: &str) {
        self.push(s);
        for w in s.split(|c: char| c.is_whitespace() || c == ',' || c == '-') {
            if w.chars().any(char::is_alphabetic) {
                self.push(w);
            }
        }
    }

    /// An SSN (nine digits or the last four): every common format, and its last four alone.
    pub fn add_ssn(&mut self, digits: &str) {
        let d: String = digits.chars().filter(char::is_ascii_digit).collect();
        if d.len() == 9 {
            self.push_digits(&d);
            // Its first five (area and group) as a whole run of digits.
            self.push_digits(&d[..5]);
            let (a, b, c) = (&d[..3], &d[3..5], &d[5..]);
            for sep in ["-", " ", ".", ""] {
                self.push(&format!("{a}{sep}{b}{sep}{c}"));
            }
        }
        if let Some(n) = (d.len() >= 4)
            .then(|| Self::prepare(&d[d.len() - 4..]))
            .flatten()
        {
            self.text_only.push(n);
            self.push_digits(&d[d.len() - 4..]);
        }
    }

    /// A record's identifying values: names (unless `anonymous`: those are generated from its
    /// UID and the word "Anonymous"), alias, SSN and date of birth (unless `anonymous`: an
    /// approximate one).
    pub fn add_identity(&mut self, identity: &crate::domain::identity::Identity, anonymous: bool) {
        if !anonymous {
            for v in [
                &identity.first_name,
                &identity.middle_name,
                &identity.last_name,
            ]
            .into_iter()
            .flatten()
            {
                self.add_value(v);
            }
            if let Some(d) = identity.dob {
                self.add_date(d);
            }
        }
        if let Some(a) = &identity.alias {
            self.add_value(a);
        }
        if let Some(s) = &identity.ssn {
            self.add_ssn(s);
        }
    }

    /// The forms of a record's identity that name it in another record's text: its full name
    /// (first and last, with or without the middle name, in either order) and a nine-digit SSN.
    /// A first or last name alone, an SSN's last four or a date of birth could there be someone
    /// else's, so they are left.
    pub fn add_naming_forms(&mut self, identity: &crate::domain::identity::Identity) {
        self.add_naming_parts(
            [
                &identity.first_name,
                &identity.middle_name,
                &identity.last_name,
            ]
            .map(|p| p.as_deref()),
            identity.ssn.as_deref(),
        );
    }

    /// [`Self::add_naming_forms`] of a first, middle and last name and an SSN. The full name is
    /// found as words, whatever stands between them of whitespace (line breaks and tabs
    /// included), hyphens, underscores, commas, dots and apostrophes, in any case and Unicode
    /// compatibility form (full-width letters): first and last; first, middle (or any initial)
    /// and last; last and first, with the middle name or an initial after the first.
    pub fn add_naming_parts(
        &mut self,
        [first, middle, last]: [Option<&str>; 3],
        ssn: Option<&str>,
    ) {
        let part = |s: Option<&str>| -> Vec<NamePart> {
            s.map(name_words)
                .unwrap_or_default()
                .into_iter()
                .map(NamePart::Word)
                .collect()
        };
        let (f, m, l) = (part(first), part(middle), part(last));
        if !f.is_empty() && !l.is_empty() {
            let i = vec![NamePart::Initial];
            let mut forms = vec![[&f[..], &l].concat(), [&f[..], &i, &l].concat()];
            forms.push([&l[..], &f].concat());
            forms.push([&l[..], &f, &i].concat());
            if !m.is_empty() {
                forms.push([&f[..], &m, &l].concat());
                forms.push([&l[..], &f, &m].concat());
            }
            for form in forms {
                if !self.names.contains(&form) {
                    self.names.push(form);
                }
            }
        }
        if let Some(s) = ssn {
            let d: String = s.chars().filter(char::is_ascii_digit).collect();
            if d.len() == 9 {
                self.push_digits(&d);
                let (a, b, c) = (&d[..3], &d[3..5], &d[5..]);
                for sep in ["-", " ", ".", ""] {
                    self.push(&format!("{a}{sep}{b}{sep}{c}"));
                }
            }
        }
    }

    /// Whether free text holds one of the values, as a whole word in any case (an SSN's last
    /// four included): what [`scrub_text`] would remove, less the scanner's own patterns.
    pub fn found_in(&self, text: &str) -> bool {
        if !needle_ranges(text, self, true).is_empty()
            || !digit_ranges(text, self).is_empty()
            || !name_ranges(text, self).is_empty()
        {
            return true;
        }
        // A word spelled out with spaces ("D o l o r e s") is the word.
        let squeezed = squeeze_spelled(text);
        squeezed != text && !needle_ranges(&squeezed, self, true).is_empty()
    }

    /// A date of birth in the formats people write.
    pub fn add_date(&mut self, d: NaiveDate) {
        for f in [
            "%Y-%m-%d",
            "%Y/%m/%d",
            "%m/%d/%Y",
            "%-m/%-d/%Y",
            "%m-%d-%Y",
            "%-m-%-d-%Y",
            "%m.%d.%Y",
            "%d/%m/%Y",
            "%-d/%-m/%Y",
            "%d.%m.%Y",
            "%-d.%-m.%Y",
            "%m/%d/%y",
            "%-m/%-d/%y",
            "%B %-d, %Y",
            "%B %-d %Y",
            "%b %-d, %Y",
            "%b %-d %Y",
            "%b. %-d, %Y",
            "%-d %B %Y",
            "%-d %b %Y",
            "%d-%b-%Y",
            "%Y%m%d",
            "%m%d%Y",
            "%y%m%d",
            "%y-%m-%d",
        ] {
            let written = d.format(f).to_string();
            if !written.chars().any(char::is_alphabetic) {
                self.push_digits(&written);
            }
            self.push(&written);
        }
    }
}

/// The (first, last) name pairs a text could name a person by, lowercased: each two words in a
/// row in both orders ("Maria Lopez", "Lopez, Maria"), and two words around a one-letter middle
/// initial ("Maria J. Lopez"). Words are runs of letters, digits and `'`, of two or more, read
/// in the text's Unicode compatibility form (full-width letters are letters); a hyphen both
/// joins words ("Garcia-Lopez") and separates them ("Maria-Lopez"), so both readings count,
/// and two words in a row also count joined by one ("Ana Garcia Lopez" names "Garcia-Lopez").
pub fn name_pairs(text: &str) -> Vec<(String, String)> {
    let text: String = text
        .chars()
        .filter_map(normalize_char)
        .collect::<String>()
        .nfkc()
        .collect();
    let mut out = Vec::new();
    let mut push = |a: &str, b: &str| {
        if a.chars().count() >= 2 && b.chars().count() >= 2 {
            for p in [
                (a.to_string(), b.to_string()),
                (b.to_string(), a.to_string()),
            ] {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    };
    for hyphen_joins in [true, false] {
        let words: Vec<String> = text
            .split(|c: char| {
                !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}' || (hyphen_joins && c == '-'))
            })
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
        for i in 0..words.len() {
            if let Some(b) = words.get(i + 1) {
                push(&words[i], b);
            }
            if let (Some(m), Some(b)) = (words.get(i + 1), words.get(i + 2)) {
                if m.chars().count() == 1 {
                    push(&words[i], b);
                }
                if !hyphen_joins {
                    push(&words[i], &format!("{m}-{b}"));
                    push(&format!("{}-{m}", words[i]), b);
                }
            }
        }
    }
    out
}

/// `text` in the form full names are compared in, char by char: the PII scanner's
/// normalization (full-width and other-script digits, dashes and spaces; zero-width chars
/// dropped), then the Unicode compatibility decomposition (NFKD: two texts are equal in it
/// exactly when their NFKC forms are), lowercased. With the byte offset in `text` of each char,
/// and the text's length at the end.
fn compat_folded(text: &str) -> (Vec<char>, Vec<usize>) {
    let mut c = Vec::with_capacity(text.len());
    let mut at_byte = Vec::with_capacity(text.len() + 1);
    for (b, ch) in text.char_indices() {
        let Some(n) = normalize_char(ch) else {
            continue;
        };
        decompose_compatible(n, |d| {
            for l in d.to_lowercase() {
                c.push(l);
                at_byte.push(b);
            }
        });
    }
    at_byte.push(text.len());
    (c, at_byte)
}

/// A char of a word: a letter or digit, or a combining mark on one (an accent, decomposed).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The words of a folded text ([`compat_folded`]): (start, end) char positions.
fn word_spans(c: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if is_word_char(c[i]) {
            let s = i;
            while i < c.len() && is_word_char(c[i]) {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// The words of a name, folded ([`compat_folded`]).
fn name_words(s: &str) -> Vec<Vec<char>> {
    let (c, _) = compat_folded(s);
    word_spans(&c)
        .into_iter()
        .map(|(a, b)| c[a..b].to_vec())
        .collect()
}

/// What may stand between two words of a full name as a person types it: whitespace of any kind
/// and length (line breaks, tabs), hyphens, underscores, commas, dots (an initial's) and
/// apostrophes.
fn joins_name_words(sep: &[char]) -> bool {
    !sep.is_empty()
        && sep
            .iter()
            .all(|c| c.is_whitespace() || matches!(c, '-' | '_' | ',' | '.' | '\'' | '\u{2019}'))
}

/// The byte ranges of `text` where one of the full names ([`Needles::add_naming_parts`])
/// stands, as whole words joined by [`joins_name_words`], in any case and compatibility form.
fn name_ranges(text: &str, needles: &Needles) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    if needles.names.is_empty() {
        return ranges;
    }
    let (c, at_byte) = compat_folded(text);
    let words = word_spans(&c);
    let joined: Vec<bool> = words
        .windows(2)
        .map(|w| joins_name_words(&c[w[0].1..w[1].0]))
        .collect();
    for form in &needles.names {
        'at: for s in 0..words.len().saturating_sub(form.len() - 1) {
            for (k, part) in form.iter().enumerate() {
                let (a, b) = words[s + k];
                let fits = match part {
                    NamePart::Word(w) => c[a..b] == w[..],
                    NamePart::Initial => b - a == 1 && c[a].is_alphabetic(),
                };
                if !fits || (k > 0 && !joined[s + k - 1]) {
                    continue 'at;
                }
            }
            ranges.push((at_byte[words[s].0], at_byte[words[s + form.len() - 1].1]));
        }
    }
    ranges
}

/// The word that finds (a superset of) the texts naming a person in full, for a database
/// search in the texts' NFKC form ignoring case: the longest word of the last name, in NFKC
/// form, lowercased. `None` without a word.
pub fn mention_key(last_name: &str) -> Option<String> {
    let n: String = last_name
        .chars()
        .filter_map(normalize_char)
        .collect::<String>()
        .nfkc()
        .collect::<String>()
        .to_lowercase();
    n.split(|c: char| !is_word_char(c))
        .max_by_key(|w| w.chars().count())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
}

/// Free text with every scanner match and every needle replaced, or `None` when nothing matched.
pub fn scrub_text(text: &str, needles: &Needles) -> Option<String> {
    scrub(text, needles, true)
}

/// Structured text (audit details, stored responses) with the former values replaced, and
/// nothing else: dates and numbers there are data, not PII.
pub fn scrub_values(text: &str, needles: &Needles) -> Option<String> {
    scrub(text, needles, false)
}

/// Another record's free text with the values (usually [`Needles::add_naming_forms`]) replaced,
/// digit forms included, and nothing else: its own dates and numbers are its own.
pub fn scrub_mentions(text: &str, needles: &Needles) -> Option<String> {
    let mut ranges = needle_ranges(text, needles, false);
    ranges.extend(digit_ranges(text, needles));
    ranges.extend(name_ranges(text, needles));
    replace_ranges(text, ranges)
}

fn scrub(text: &str, needles: &Needles, free_text: bool) -> Option<String> {
    let mut ranges: Vec<(usize, usize)> = if free_text {
        pii_spans(text)
            .into_iter()
            .map(|s| (s.start, s.end))
            .collect()
    } else {
        Vec::new()
    };
    ranges.extend(needle_ranges(text, needles, free_text));
    ranges.extend(name_ranges(text, needles));
    if free_text {
        ranges.extend(digit_ranges(text, needles));
    }
    replace_ranges(text, ranges)
}

fn replace_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> Option<String> {
    if ranges.is_empty() {
        return None;
    }
    ranges.sort();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in ranges {
        if e <= pos {
            continue;
        }
        if s >= pos {
            out.push_str(&text[pos..s]);
            out.push_str(REMOVED);
        }
        pos = e;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

/// The byte ranges of `text` where a needle stands as a whole word (the last-four needles too
/// when `free_text`).
fn needle_ranges(text: &str, needles: &Needles, free_text: bool) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    if needles.is_empty() {
        return ranges;
    }
    let (c, at_byte) = normalized(text);
    let lower: Vec<char> = c.iter().map(|ch| fold(*ch)).collect();
    let boundary = |i: usize| lower.get(i).is_none_or(|ch| !ch.is_alphanumeric());
    let extra: &[Vec<char>] = if free_text { &needles.text_only } else { &[] };
    for n in needles.needles.iter().chain(extra) {
        if n.len() > lower.len() {
            continue;
        }
        for s in 0..=lower.len() - n.len() {
            let e = s + n.len();
            if lower[s..e] == n[..] && (s == 0 || boundary(s - 1)) && boundary(e) {
                ranges.push((at_byte[s], at_byte[e]));
            }
        }
    }
    ranges
}

/// `text` with every run of three or more single letters separated by single spaces written as
/// one word ("call D o l o r e s" is "call Dolores").
fn squeeze_spelled(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let single = |w: &str| w.chars().count() == 1 && w.chars().all(char::is_alphabetic);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j < words.len() && single(words[j]) {
            j += 1;
        }
        if j - i >= 3 {
            out.push(words[i..j].concat());
            i = j;
        } else {
            out.push(words[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

/// The byte ranges of `text` where a run of digits (digits with at most one `-`, `.`, `/` or
/// space between two of them, letters or anything else around it) holds an SSN or a date of
/// birth ([`Needles::digits_within`]) or is one of the shorter digit forms
/// ([`Needles::digits_whole`]). Free text only.
fn digit_ranges(text: &str, needles: &Needles) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    if needles.digits_within.is_empty() && needles.digits_whole.is_empty() {
        return ranges;
    }
    let (c, at_byte) = normalized(text);
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut end = i;
        while end < c.len() {
            if c[end].is_ascii_digit() {
                digits.push(c[end]);
                end += 1;
            } else if matches!(c[end], '-' | '.' | '/' | ' ')
                && c.get(end + 1).is_some_and(char::is_ascii_digit)
            {
                end += 1;
            } else {
                break;
            }
        }
        let found = needles
            .digits_within
            .iter()
            .any(|n| digits.contains(n.as_str()))
            || needles.digits_whole.contains(&digits);
        if found {
            ranges.push((at_byte[start], at_byte[end]));
        }
        i = end;
    }
    ranges
}

/// Scrubs every string inside a JSON value (as free text when `free_text`, else as structured
/// text: see [`scrub_values`]); answers whether anything changed.
pub fn scrub_json(v: &mut serde_json::Value, needles: &Needles, free_text: bool) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => match scrub(s, needles, free_text) {
            Some(t) => {
                *s = t;
                true
            }
            None => false,
        },
        Value::Array(a) => {
            a.iter_mut()
                // Every element, not `any`: it would stop at the first change.
                .map(|x| scrub_json(x, needles, free_text))
                .filter(|changed| *changed)
                .count()
                > 0
        }
        Value::Object(o) => {
            o.values_mut()
                // Every element, not `any`: it would stop at the first change.
                .map(|x| scrub_json(x, needles, free_text))
                .filter(|changed| *changed)
                .count()
                > 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Needles {
        let mut n = Needles::default();
        n.add_value("Rosalind");
        n.add_value("Featherstonehaugh");
        n.add_value("Mary Ann");
        n.add_ssn("524719932");
        n.add_date(NaiveDate::from_ymd_opt(1981, 6, 14).unwrap());
        n
    }

    #[test]
    fn name_pairs_are_words_in_a_row_either_way() {
        let p = name_pairs("Maria Lopez called; re: O'Brien, Sean J. Paul");
        for (f, l) in [
            ("maria", "lopez"),
            ("lopez", "maria"),
            ("o'brien", "sean"),
            ("sean", "o'brien"),
            ("sean", "paul"),
        ] {
            assert!(
                p.contains(&(f.to_string(), l.to_string())),
                "{f} {l}: {p:?}"
            );
        }
        assert!(name_pairs("4711").is_empty());
    }

    #[test]
    fn name_pairs_read_hyphens_both_ways_and_full_width_letters() {
        for (text, f, l) in [
            ("call from Maria-Lopez", "maria", "lopez"),
            ("call from Ana Garcia-Lopez", "ana", "garcia-lopez"),
            ("call from Ana Garcia Lopez", "ana", "garcia-lopez"),
            ("call from Maria_Lopez", "maria", "lopez"),
            ("call from \u{ff2d}\u{ff41}\u{ff52}\u{ff49}\u{ff41} \u{ff2c}\u{ff4f}\u{ff50}\u{ff45}\u{ff5a}", "maria", "lopez"),
            ("call from Maria\u{2010}Lopez", "maria", "lopez"),
        ] {
            let p = name_pairs(text);
            assert!(p.contains(&(f.to_string(), l.to_string())), "{text}: {p:?}");
        }
    }

    #[test]
    fn mention_keys_are_the_last_names_longest_word() {
        assert_eq!(mention_key("Fernsworth").as_deref(), Some("fernsworth"));
        assert_eq!(
            mention_key("van der Berg-Smithson").as_deref(),
            Some("smithson")
        );
        assert_eq!(
            mention_key("\u{ff22}\u{ff4c}\u{ff41}\u{ff43}\u{ff4b}").as_deref(),
            Some("black")
        );
        assert_eq!(mention_key(" - "), None);
    }

    #[test]
    fn another_records_text_loses_the_full_name_and_ssn_only() {
        let mut n = Needles::default();
        n.add_naming_parts(
            [Some("Octavian"), Some("J"), Some("Fernsworth")],
            Some("618234471"),
        );
        for (text, want) in [
            (
                "checking whether Octavian Fernsworth is related",
                Some("checking whether [removed] is related"),
            ),
            (
                "came with FERNSWORTH, OCTAVIAN J today",
                Some("came with [removed] today"),
            ),
            ("ssn 618-23-4471 on file", Some("ssn [removed] on file")),
            ("ref 6182344719x", Some("ref [removed]x")),
            // Whatever whitespace, punctuation, case or compatibility form stands between and
            // in the words, with or without the middle name or an initial.
            (
                "with Octavian  Fernsworth today",
                Some("with [removed] today"),
            ),
            ("with Octavian\nFernsworth", Some("with [removed]")),
            ("with Octavian\t \r\n Fernsworth.", Some("with [removed].")),
            ("with Octavian J. Fernsworth", Some("with [removed]")),
            ("with Octavian Q Fernsworth", Some("with [removed]")),
            ("with Octavian-Fernsworth", Some("with [removed]")),
            ("with octavian_fernsworth", Some("with [removed]")),
            ("re Fernsworth,Octavian J.", Some("re [removed].")),
            ("re fernsworth octavian", Some("re [removed]")),
            (
                "with \u{ff2f}\u{ff43}\u{ff54}\u{ff41}\u{ff56}\u{ff49}\u{ff41}\u{ff4e} \u{ff26}\u{ff45}\u{ff52}\u{ff4e}\u{ff53}\u{ff57}\u{ff4f}\u{ff52}\u{ff54}\u{ff48}",
                Some("with [removed]"),
            ),
            ("with Octa\u{200b}vian Fernsworth", Some("with [removed]")),
            // Alone, a first or last name, the last four or a date is left; another word
            // between them is not a middle initial.
            ("Octavian came in; Fernsworth Street", None),
            ("Octavian and Fernsworth", None),
            ("Octavian; Fernsworth", None),
            ("Octavianx Fernsworth", None),
            ("ends 4471 on 2026-03-01 call 555-0142", None),
        ] {
            assert_eq!(scrub_mentions(text, &n).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn former_values_are_removed_in_any_case_and_format() {
        let n = needles();
        for (text, want) in [
            ("ROSALIND came in", "[removed] came in"),
            ("met rosalind featherstonehaugh", "met [removed] [removed]"),
            ("SSN ending 9932, ok", "SSN ending [removed], ok"),
            ("ssn 524 71 9932", "ssn [removed]"),
            ("ssn ５２４-７１-９９３２!", "ssn [removed]!"),
            ("born June 14, 1981.", "born [removed]."),
            ("born 14 Jun 1981", "born [removed]"),
            ("born 6/14/81", "born [removed]"),
            ("Mary and Ann", "[removed] and [removed]"),
            ("call (509) 555-0142", "call [removed]"),
            ("Rosalindo stays", "Rosalindo stays"),
            ("room 19932", "room 19932"),
        ] {
            assert_eq!(
                scrub_text(text, &n).as_deref().unwrap_or(text),
                want,
                "{text}"
            );
        }
        assert_eq!(scrub_text("nothing here", &n), None);
    }

    #[test]
    fn found_in_matches_whole_words_in_any_case() {
        let n = needles();
        for (text, want) in [
            ("client ROSALIND called", true),
            ("re: featherstonehaugh", true),
            ("ssn ending 9932", true),
            ("dob 6/14/1981", true),
            ("ticket 4471, called about Rosalindo", false),
            ("housing referral follow-up", false),
            // Digits glued to letters, or spread out, are still the SSN or the DOB.
            ("ssn:524-71-9932x", true),
            ("ref9932", true),
            ("5 2 4 7 1 9 9 3 2", true),
            ("dob19810614x", true),
            ("see 06141981", true),
            ("ticket 99321", false),
            ("INC0019932", false),
            ("order 2024-06-14", false),
            ("ticket 810614", true),
            ("re 81-06-14", true),
            ("ref 524 71", true),
            ("call R o s a l i n d", true),
            ("plan A B C", false),
            ("zip 52472", false),
        ] {
            assert_eq!(n.found_in(text), want, "{text}");
        }
    }

    #[test]
    fn json_strings_are_scrubbed_everywhere() {
        let n = needles();
        let mut v = serde_json::json!({"client": {"first_name": "Rosalind", "n": 3,
            "notes": ["ssn 524-71-9932", "fine"], "dob": "1981-06-14", "entry_date": "2024-03-01",
            "id": "0190c1b2-9932-7000-8000-000000009932"}});
        assert!(scrub_json(&mut v, &n, false));
        assert_eq!(v["client"]["first_name"], "[removed]");
        assert_eq!(v["client"]["notes"][0], "ssn [removed]");
        assert_eq!(v["client"]["notes"][1], "fine");
        assert_eq!(v["client"]["dob"], "[removed]");
        // Structured text keeps its dates and ids; free text loses every full date.
        assert_eq!(v["client"]["entry_date"], "2024-03-01");
        assert_eq!(v["client"]["id"], "0190c1b2-9932-7000-8000-000000009932");
        assert!(!scrub_json(&mut v, &n, false));
        assert!(scrub_json(&mut v, &n, true));
        assert_eq!(v["client"]["entry_date"], "[removed]");
    }
}
