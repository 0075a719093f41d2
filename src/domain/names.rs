//! HUD 3.01 name parts (FirstName, MiddleName, LastName, NameSuffix, all `S50` in the CSV).

use super::DomainError;

/// HUD's `S50`: at most 50 characters (not bytes, so accented names get the same room).
pub const NAME_MAX_CHARS: usize = 50;

/// Characters that are not control characters but can make a stored name display as something
/// else (bidi overrides) or compare unequal to what it looks like (zero-width space, BOM).
/// Zero-width joiners (U+200C/U+200D) are left alone: some scripts need them.
fn is_invisible_trick(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The rule every short name-like text (a CoC, agency or project name, a file name, a contact
/// value, who verified a living situation, where an assessment took place) shares with client
/// names: no control character other than whitespace (a caller's own check may refuse that
/// too), and none of the characters that make a text display as something else or compare
/// unequal to what it looks like (`inv\u{202E}gpj.exe` shows as `invexe.jpg`; a name of
/// zero-width spaces shows as nothing).
pub fn has_hidden_characters(s: &str) -> bool {
    s.chars()
        .any(|c| (c.is_control() && !c.is_whitespace()) || is_invisible_trick(c))
}

/// A short name-like text shows something: a letter or a digit.
pub fn has_visible_word(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// Tab, newline and other whitespace are folded into single spaces (a pasted name often
/// carries them) before control characters are looked for, so only the other control
/// characters (NUL, ESC, DEL, ...) are refused.
pub fn normalize_name(field: &'static str, s: &str) -> Result<Option<String>, DomainError> {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut has_letter = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible_trick(c) {
            return Err(DomainError::new(
                "name_invalid_characters",
                format!("{field} contains control or invisible characters"),
            ));
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        has_letter |= c.is_alphabetic();
        out.push(c);
    }
    if out.is_empty() {
        return Ok(None);
    }
    if out.chars().count() > NAME_MAX_CHARS {
        return Err(DomainError::new(
            "name_too_long",
            format!("{field} must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
    if !has_letter {
        return Err(DomainError::new(
            "name_invalid_characters",
            format!("{field} must contain at least one letter"),
        ));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> Option<String> {
        normalize_name("first_name", s).unwrap()
    }

    fn code(s: &str) -> &'static str {
        normalize_name("last_name", s).unwrap_err().code
    }

    #[test]
    fn trims_and_collapses() {
        assert_eq!(ok("  Mary   Ann \t"), Some("Mary Ann".into()));
        assert_eq!(ok("Mary\tAnn"), Some("Mary Ann".into()));
        assert_eq!(ok("Mary\r\n Ann"), Some("Mary Ann".into()));
        assert_eq!(ok("Mary\u{00A0}Ann"), Some("Mary Ann".into()));
        assert_eq!(ok("John"), Some("John".into()));
    }

    #[test]
    fn empty_is_none() {
        assert_eq!(ok(""), None);
        assert_eq!(ok("   \t\n "), None);
    }

    #[test]
    fn real_names_pass_unchanged() {
        for n in [
            "O'Brien",
            "Jean-Luc",
            "José",
            "Nguyễn",
            "李",
            "Zoë Saldaña",
            "St. John",
            "Anonymous",
            "B23171bc0",
            "Ní Bhriain",
            "Jr.",
            "III",
            "کاظمی\u{200C}پور",
        ] {
            assert_eq!(ok(n).as_deref(), Some(n));
        }
    }

    #[test]
    fn length_counts_characters() {
        let fifty = "é".repeat(50);
        assert_eq!(ok(&fifty), Some(fifty.clone()));
        assert_eq!(code(&"é".repeat(51)), "name_too_long");
        // Whitespace collapsed before counting: this is 50 characters once normalized.
        let spaced = format!("{}      {}", "a".repeat(24), "b".repeat(25));
        assert_eq!(ok(&spaced).unwrap().chars().count(), 50);
    }

    #[test]
    fn refuses_control_and_invisible_characters() {
        for s in [
            "Jo\u{0}hn",
            "Jo\u{1b}[31mhn",
            "John\u{7f}",
            "Jo\u{9b}hn",
            "\u{202E}nhoJ",
            "Jo\u{200B}hn",
            "\u{FEFF}John",
        ] {
            assert_eq!(code(s), "name_invalid_characters", "{s:?}");
        }
    }

    #[test]
    fn short_texts_share_the_rule() {
        for s in [
            "inv\u{202E}gpj.exe",
            "\u{200B}\u{200B}",
            "Shelter\u{FEFF}",
            "a\u{1b}b",
        ] {
            assert!(has_hidden_characters(s), "{s:?}");
        }
        for s in [
            "Hope House",
            "report 2024.pdf",
            "Zoë\tÑ",
            "کاظمی\u{200C}پور",
        ] {
            assert!(!has_hidden_characters(s), "{s:?}");
        }
        assert!(!has_visible_word("- . -"));
        assert!(has_visible_word("211"));
    }

    #[test]
    fn needs_a_letter() {
        for s in ["123", "---", "12 34", ".", "'"] {
            assert_eq!(code(s), "name_invalid_characters", "{s:?}");
        }
    }

    #[test]
    fn messages_name_the_field_not_the_value() {
        for s in ["Secretname\u{0}", &"Verylongname".repeat(5), "424242"] {
            let e = normalize_name("middle_name", s).unwrap_err();
            assert!(e.message.contains("middle_name"));
            assert!(!e.message.contains("Secretname") && !e.message.contains("Verylongname"));
            assert!(!e.message.contains("424242"));
        }
    }

    proptest! {
        #[test]
        fn idempotent_and_tidy(s in "\\PC{0,60}") {
            if let Ok(Some(n)) = normalize_name("first_name", &s) {
                prop_assert_eq!(normalize_name("first_name", &n).unwrap(), Some(n.clone()));
                prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
                prop_assert!(n.chars().count() <= NAME_MAX_CHARS);
                prop_assert!(n.chars().any(char::is_alphabetic));
            }
        }

        #[test]
        fn words_survive(words in proptest::collection::vec("[A-Za-z]{1,8}", 1..5), gap in "[ \t]{1,3}") {
            let joined = words.join(&gap);
            prop_assert_eq!(ok(&format!(" {joined} ")), Some(words.join(" ")));
        }
    }
}
