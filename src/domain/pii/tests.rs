use super::*;
use proptest::prelude::*;

use PiiKind::{Date, Email, HivAids, Phone, Ssn};

fn kinds(text: &str) -> Vec<PiiKind> {
    scan_pii(text)
}

/// Each example alone, then inside a sentence with punctuation right after it.
fn assert_found(kind: PiiKind, examples: &[&str]) {
    for ex in examples {
        assert_eq!(kinds(ex), vec![kind], "{ex:?} alone");
        let framed = format!("Client said: {ex}. Then left.");
        assert_eq!(kinds(&framed), vec![kind], "{framed:?}");
        let framed = format!("({ex}), noted");
        assert_eq!(kinds(&framed), vec![kind], "{framed:?}");
    }
}

fn assert_clean(examples: &[&str]) {
    for ex in examples {
        assert_eq!(kinds(ex), vec![], "{ex:?}");
    }
}

#[test]
fn ssn_positives() {
    assert_found(
        Ssn,
        &["123-45-6789", "123 45 6789", "123456789", "000-00-0000"],
    );
    assert_eq!(kinds("SSN:123-45-6789"), vec![Ssn]);
    assert_eq!(kinds("ssn #123456789"), vec![Ssn]);
}

#[test]
fn ssn_negatives() {
    assert_clean(&[
        "123-45-678",
        "1234-56-7890",
        "123-456-789",
        "123-45 6789",
        "12345678",
        "1234567890123",
        "123456789012",
        "$123456789",
        "ab123456789",
        "1-123-45-6789",
        "123,456,789",
    ]);
}

#[test]
fn phone_positives() {
    assert_found(
        Phone,
        &[
            "(312) 555-0100",
            "(312)555-0100",
            "312-555-0100",
            "312.555.0100",
            "312 555 0100",
            "312 555-0100",
            "3125550100",
            "+1 312 555 0100",
            "+1-312-555-0100",
            "+13125550100",
            "+1 (312) 555-0100",
            "1-312-555-0100",
            "1 (312) 555-0100",
            "1(312)555-0100",
        ],
    );
    assert_eq!(kinds("call 312-555-0100x12"), vec![Phone]);
    assert_eq!(kinds("tel:3125550100"), vec![Phone]);
    // Nine digits are an SSN, not a short phone number.
    assert_eq!(kinds("312555010"), vec![Ssn]);
    // Not US formats, but the US-shaped part is still a phone number.
    assert_eq!(kinds("+2 312 555 0100"), vec![Phone]);
    assert_eq!(kinds("(312 555-0100"), vec![Phone]);
}

#[test]
fn phone_negatives() {
    assert_clean(&[
        "555-0100",
        "312-555-010",
        "312-5550-100",
        "31255501000",
        "13125550100",
        "123-456-7890",
        "312-055-0100",
        "10.312.555.0100",
        "192.168.100.1000",
        "2-312-555-0100",
        "id3125550100",
        "$3125550100",
    ]);
}

#[test]
fn email_positives() {
    assert_found(
        Email,
        &[
            "john@example.com",
            "mary.ann+hmis@mail.example.org",
            "x_y%z@sub-domain.co.uk",
            "A1@B2.IO",
        ],
    );
    assert_eq!(kinds("write to john@example.com."), vec![Email]);
}

#[test]
fn email_negatives() {
    assert_clean(&[
        "@handle",
        "john@",
        "john@localhost",
        "john@example.c",
        "john@example.123",
        "john@.com",
        "john@-x.com",
        "...@example.com",
        "john @ example.com",
        "meet @ 10",
        "a@b",
    ]);
}

#[test]
fn date_positives() {
    assert_found(
        Date,
        &[
            "3/13/2001",
            "03/13/2001",
            "03-13-2001",
            "13/03/2001",
            "13.03.2001",
            "2001-03-13",
            "2001/3/13",
            "3/13/01",
            "March 13, 2001",
            "March 13 2001",
            "march 13,2001",
            "Mar 13 2001",
            "Mar. 13, 2001",
            "Sept 1, 2020",
            "March 13th, 2001",
            "13 March 2001",
            "13 Mar 2001",
            "13 March, 2001",
            "13th of March 2001",
            "13-Mar-2001",
            "29 February 2000",
        ],
    );
    assert_eq!(kinds("at 2001-03-13T10:30:00Z"), vec![Date]);
    // Another separator does not chain: ranges of dates are dates.
    assert_eq!(kinds("stayed 12/31/1999-01/01/2000"), vec![Date]);
    assert_eq!(kinds("stayed 1999-12-31/2000-01-01"), vec![Date]);
    assert_eq!(kinds("5-13 March 2001"), vec![Date]);
}

#[test]
fn date_negatives() {
    assert_clean(&[
        "2001",
        "March 2001",
        "Mar 2001",
        "March 13",
        "13 March",
        "10:30",
        "10:30 AM",
        "10:30:15",
        "$1,200",
        "$1,200.50",
        "13/13/2001",
        "32/01/2001",
        "2001-13-01",
        "2001-02-30",
        "29 February 2001",
        "3/13",
        "1/2",
        "3-13-01",
        "3.13.01",
        "Marching 13 2001",
        "Mayor 13, 2001",
        "March 132001",
        "13 March 20011",
        "1/3/13/2001",
        "2001-03-13-5",
    ]);
}

#[test]
fn not_pii() {
    assert_clean(&[
        "",
        "Client stayed 3 nights; paid $1,200 at 10:30.",
        "Born in 2001, moved here in March 2001.",
        "Room 4 bed 12, case 4821.",
        "550e8400-e29b-41d4-a716-446655440000",
        "ref 123e4567-e89b-12d3-a456-426614174000 done",
        "12345678-1234-1234-1234-123456789012",
        "4111 1111 1111 1111",
        "Score 12/40, up from 9/40",
        "Gave 2 bus passes and 1 voucher",
        "Address 1234 N Main",
        "émile@ nowhere",
    ]);
}

#[test]
fn several_kinds_come_back_distinct_and_in_order() {
    let text = "DOB 3/13/2001, email a@b.org, phone 312-555-0100, ssn 123-45-6789, \
                again 123456789 and 3/14/2001";
    assert_eq!(kinds(text), vec![Ssn, Phone, Email, Date]);
    assert!(contains_pii(text));
    assert!(!contains_pii("nothing to see"));
}

#[test]
fn kind_names() {
    for k in PiiKind::ALL {
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{}\"", k.as_str()));
        assert_eq!(serde_json::from_str::<PiiKind>(&json).unwrap(), k);
    }
    assert_eq!(PiiKind::Ssn.as_str(), "ssn");
}

#[test]
fn long_inputs_stay_fast() {
    let digits = "1".repeat(100_000);
    assert!(kinds(&digits).is_empty());
    let ats = "a@".repeat(50_000);
    assert!(kinds(&ats).is_empty());
    let seps = "1-".repeat(50_000);
    assert!(kinds(&seps).is_empty());
}

fn nanp3() -> impl Strategy<Value = String> {
    (2u32..10, 0u32..100).prop_map(|(a, b)| format!("{a}{b:02}"))
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,80}") {
        let k = scan_pii(&s);
        let mut sorted = k.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(k, sorted);
    }

    #[test]
    fn text_without_digits_or_at_holds_at_most_hiv_wording(s in "[a-zA-Z ,.;:!?'()-]{0,80}") {
        prop_assert!(scan_pii(&s).iter().all(|k| *k == HivAids), "{}", s);
    }

    #[test]
    fn any_ssn_shape_is_found(d in "[0-9]{9}", sep in prop_oneof![Just(""), Just("-"), Just(" ")],
                              pre in "[a-z ]{0,10}", post in "[a-z ]{0,10}") {
        let ssn = format!("{}{sep}{}{sep}{}", &d[..3], &d[3..5], &d[5..]);
        let text = format!("{pre} {ssn} {post}");
        prop_assert!(scan_pii(&text).contains(&Ssn), "{}", text);
    }

    #[test]
    fn long_digit_runs_are_neither_ssn_nor_phone(d in "[0-9]{12,30}") {
        let text = format!("id {d} x");
        prop_assert!(scan_pii(&text).is_empty());
    }

    #[test]
    fn any_us_phone_shape_is_found(a in nanp3(), e in nanp3(), l in "[0-9]{4}", form in 0usize..6) {
        let text = match form {
            0 => format!("({a}) {e}-{l}"),
            1 => format!("{a}-{e}-{l}"),
            2 => format!("{a}.{e}.{l}"),
            3 => format!("{a}{e}{l}"),
            4 => format!("+1 {a} {e} {l}"),
            _ => format!("1-{a}-{e}-{l}"),
        };
        let framed = format!("call {text} now");
        prop_assert_eq!(scan_pii(&framed), vec![Phone], "{}", text);
    }

    #[test]
    fn any_real_date_is_found(days in 0i64..73_000, form in 0usize..6) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let fmt = ["%m/%d/%Y", "%-m/%-d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%B %-d, %Y", "%-d %b %Y"][form];
        let text = format!("seen {} today", d.format(fmt));
        prop_assert_eq!(scan_pii(&text), vec![Date], "{}", text);
    }

    #[test]
    fn uuids_are_clean(h in "[0-9a-f]{32}") {
        let u = format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
        let text = format!("ref {u}.");
        prop_assert!(scan_pii(&text).is_empty(), "{}", u);
    }

    #[test]
    fn years_times_and_money_are_clean(y in 1900u32..2100, h in 0u32..24, m in 0u32..60, n in 0u32..100_000) {
        let text = format!("in {y}, at {h}:{m:02}, paid ${n} and ${},{:03}", n / 1000 + 1, n % 1000);
        prop_assert!(scan_pii(&text).is_empty(), "{}", text);
    }
}

#[test]
fn ssn_with_dots_spaces_and_unicode_digits() {
    assert_found(
        Ssn,
        &[
            "123.45.6789",
            "１２３-４５-６７８９",
            "١٢٣-٤٥-٦٧٨٩",
            "१२३४५६७८९",
        ],
    );
    // Unicode dashes and spaces, and zero-width characters inside.
    assert_eq!(kinds("ssn 123\u{2013}45\u{2013}6789"), vec![Ssn]);
    assert_eq!(kinds("ssn 123\u{00a0}45\u{00a0}6789"), vec![Ssn]);
    assert_eq!(kinds("ssn 123-4\u{200b}5-6789"), vec![Ssn]);
    assert_eq!(kinds("call ３１２.５５５.０１００"), vec![Phone]);
    assert_eq!(kinds("mail ｊｏｈｎ＠example.com"), vec![Email]);
    assert_eq!(kinds("seen ３/１３/２００１"), vec![Date]);
    assert_clean(&["123.45.678", "1.123.45.6789", "123.45-6789"]);
}

#[test]
fn spans_point_into_the_original_text() {
    let text = "SSN １２３-４５-６７８９ and mail a@b.org.";
    let spans = pii_spans(text);
    let got: Vec<(PiiKind, &str)> = spans
        .iter()
        .map(|s| (s.kind, &text[s.start..s.end]))
        .collect();
    assert_eq!(got, vec![(Ssn, "１２３-４５-６７８９"), (Email, "a@b.org")]);
}

#[test]
fn street_addresses_and_po_boxes() {
    use PiiKind::Address;
    for a in [
        "808 W Spokane Falls Blvd",
        "808 W. Spokane Falls Boulevard",
        "12 Main St Apt 4",
        "12 Main St.",
        "4502 N 3rd Ave #12",
        "1600 Pennsylvania Avenue",
        "221B Baker Street",
        "77 Sunset Strip Way",
        "9 Elm Ct, Unit 2B",
        "lives at 12 main st",
        "PO Box 311",
        "P.O. Box 42",
    ] {
        assert!(kinds(a).contains(&Address), "{a:?}");
        let framed = format!("Client said she stays at {a}, most nights.");
        assert!(kinds(&framed).contains(&Address), "{framed:?}");
    }
    let spans = pii_spans("at 12 Main St Apt 4 now");
    assert_eq!(spans.len(), 1);
    assert_eq!(
        &"at 12 Main St Apt 4 now"[spans[0].start..spans[0].end],
        "12 Main St Apt 4"
    );
    assert_clean(&[
        "Address 1234 N Main",
        "walked 3 blocks down the road",
        "has 2 more dr appointments",
        "Gave 2 bus passes",
        "took the 44 bus",
        "Room 4 bed 12",
        "Client is 12 Main",
    ]);
}

#[test]
fn hiv_and_aids_wording() {
    for t in [
        "Client disclosed HIV status",
        "client is hiv+",
        "HIV-positive since last year",
        "living with AIDS",
        "referred to HOPWA",
        "Ryan White clinic appointment",
        "viral load undetectable",
        "CD4 count low",
        "started antiretroviral therapy",
        "picks up Biktarvy monthly",
        "on PrEP",
        "PLWHA support group",
    ] {
        assert_eq!(kinds(t), vec![HivAids], "{t:?}");
    }
    assert_clean(&[
        "hearing aids replaced",
        "first aid kit given",
        "meal prep class",
        "Aids to daily living assessed",
        "prepared resume",
        "archived file",
    ]);
}

/// Sentences as case workers write them: half hold PII a reader could identify the client by
/// (consent.md's patterns), half are ordinary notes that must pass.
#[test]
fn case_note_sentences() {
    let flagged = [
        "Client gave SSN 524-71-9932 for the housing application.",
        "Ssn on file is 524 71 9932 per client.",
        "Client provided social 524.71.9932 verbally.",
        "Reached client at (509) 555-0142 to confirm appointment.",
        "Client's new cell is 509-555-0187, texts preferred.",
        "Left voicemail at 509.555.0101.",
        "Emailed resume to client at jsmith82@gmail.com.",
        "Client's DOB 6/14/1981 verified with state ID.",
        "Born June 14, 1981 in Tacoma per client.",
        "Client reports birthday 14 June 1981.",
        "Client staying with sister at 808 W Spokane Falls Blvd.",
        "Mail goes to 12 Main St Apt 4 until further notice.",
        "New lease signed for 4502 N Division St #12.",
        "Client uses PO Box 311 for mail.",
        "Client disclosed HIV status during intake.",
        "Referred to Ryan White case management.",
        "Client is HIV+ and needs medication storage.",
        "Client on Biktarvy, needs refrigerator access.",
        "Client has AIDS diagnosis, requested single room.",
        "Viral load results pending per client.",
        "Connected client with HOPWA housing program.",
        "Client's social is ５２４-７１-９９３２ on the form.",
        "Client called from 5095550142 this morning.",
        "ID shows DOB 1981-06-14.",
        "Client's emergency contact: mom, (509) 555-0199.",
        "Client moved to 1600 E Sprague Ave last week.",
        "SSN ending 9932, full number 524719932 in file.",
        "Client wrote email as mary.ann@example.org on form.",
        "Birth date 03/13/2001 confirmed by mother.",
        "Client started antiretroviral treatment last month.",
    ];
    let clean = [
        "Client attended group session and participated well.",
        "Met with client at shelter to review housing goals.",
        "Provided 2 bus passes and a meal voucher.",
        "Client reports sleeping in car for 3 nights.",
        "Discussed budget; client saving $200 per month.",
        "Client has an appointment at 10:30 on Tuesday.",
        "Client needs new hearing aids, referred to clinic.",
        "Completed VI-SPDAT, score 12 of 17.",
        "Client was exited to permanent housing in March 2024.",
        "Client walked 3 blocks to the day center.",
        "Client is on the waitlist for 2 programs.",
        "Case conference held with 4 providers.",
        "Client's daughter started school this week.",
        "Gave first aid kit and hygiene supplies.",
        "Client completed meal prep class.",
        "Client missed appointment, will follow up Friday.",
        "Room 12, bed 3 assigned for the night.",
        "Client reports 2 episodes of homelessness in 3 years.",
        "Housing voucher expires in 60 days.",
        "Client attended AA meeting at the church.",
        "Client wants to move closer to the bus line.",
        "Client's case number is 48213 in the county system.",
        "Referred to food bank on Division.",
        "Client received 14 bed nights this month.",
        "Client scored 9/40 on assessment, up from 7/40.",
        "Transportation provided to DSHS office.",
        "Client is working 20 hours per week at a warehouse.",
        "Client declined shelter tonight, prefers camp.",
        "Followed up on application submitted in 2023.",
        "Client asked about dental services.",
    ];
    assert!(flagged.len() + clean.len() >= 60);
    assert_eq!(flagged.len(), clean.len());
    let missed: Vec<&&str> = flagged.iter().filter(|s| !contains_pii(s)).collect();
    let false_positives: Vec<&&str> = clean.iter().filter(|s| contains_pii(s)).collect();
    assert!(missed.is_empty(), "PII not found in: {missed:?}");
    assert!(
        false_positives.is_empty(),
        "ordinary notes flagged: {false_positives:?}"
    );
}
