//! Given names and their common English nicknames, for the duplicate search: a record entered
//! as "Bill" is found by "William" and the other way round. Names whose nickname shares the
//! first letter and sounds alike (Kate, Katherine) are found by the phonetic keys anyway; the
//! table is for those that do not (Bill, Bob, Liz, Peggy, Dick, Ted, ...).

/// Each group: a formal name first, then the names that stand for it. A name in several groups
/// (Al, Chris, Pat, Sam, Alex, Harry, ...) is equivalent to every name of each.
const GROUPS: &[&[&str]] = &[
    &[
        "william", "bill", "billy", "will", "willie", "willy", "liam",
    ],
    &[
        "elizabeth",
        "liz",
        "lizzie",
        "lizzy",
        "beth",
        "betty",
        "betsy",
        "eliza",
        "liza",
        "libby",
        "elisabeth",
    ],
    &["robert", "bob", "bobby", "rob", "robbie", "bert"],
    &[
        "katherine",
        "kate",
        "katie",
        "kathy",
        "kat",
        "kathryn",
        "catherine",
        "cathy",
        "kitty",
    ],
    &[
        "margaret", "maggie", "meg", "peggy", "marge", "margie", "greta",
    ],
    &["richard", "rick", "ricky", "dick", "rich", "richie"],
    &["james", "jim", "jimmy", "jamie"],
    &["john", "jack", "johnny", "jon"],
    &["jonathan", "jon", "jonny"],
    &["joseph", "joe", "joey"],
    &["josephine", "jo", "josie"],
    &["michael", "mike", "mikey", "mick", "mickey"],
    &["thomas", "tom", "tommy"],
    &["charles", "charlie", "chuck", "chas"],
    &["christopher", "chris", "topher", "kit"],
    &["christine", "chris", "tina", "chrissy"],
    &["christina", "chris", "tina", "chrissy"],
    &["daniel", "dan", "danny"],
    &["david", "dave", "davey"],
    &["edward", "ed", "eddie", "ted", "ned"],
    &["theodore", "ted", "teddy", "theo"],
    &["anthony", "tony"],
    &["nicholas", "nick", "nicky"],
    &["patricia", "pat", "patty", "trish", "tricia"],
    &["patrick", "pat", "paddy"],
    &["jennifer", "jen", "jenny"],
    &["jessica", "jess", "jessie"],
    &["susan", "sue", "susie", "suzy"],
    &["deborah", "deb", "debbie", "debra"],
    &["rebecca", "becky", "becca"],
    &["victoria", "vicky", "tori"],
    &["alexander", "alex", "al", "sandy", "xander"],
    &["alexandra", "alex", "sandra", "sandy", "lexi"],
    &["sandra", "sandy"],
    &["andrew", "andy", "drew"],
    &["benjamin", "ben", "benny"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammy"],
    &["stephen", "steve", "stevie", "steven"],
    &["timothy", "tim", "timmy"],
    &["matthew", "matt", "matty"],
    &["gregory", "greg"],
    &["kenneth", "ken", "kenny"],
    &["lawrence", "larry"],
    &["leonard", "leo", "len", "lenny"],
    &["ronald", "ron", "ronnie"],
    &["donald", "don", "donnie"],
    &["gerald", "jerry"],
    &["harold", "hal", "harry"],
    &["henry", "hank", "harry"],
    &["francis", "frank", "frankie", "fran"],
    &["frances", "fran", "frannie", "frankie"],
    &["abigail", "abby", "gail"],
    &["dorothy", "dot", "dottie", "dolly"],
    &["judith", "judy"],
    &["kimberly", "kim"],
    &["pamela", "pam"],
    &["cynthia", "cindy"],
    &["barbara", "barb", "barbie"],
    &["virginia", "ginny", "ginger"],
    &["raymond", "ray"],
    &["walter", "walt", "wally"],
    &["albert", "al", "bert"],
    &["alfred", "al", "alfie", "fred"],
    &["frederick", "fred", "freddie", "fritz"],
    &["eugene", "gene"],
    &["vincent", "vince", "vinny"],
    &["douglas", "doug"],
    &["jeffrey", "jeff"],
    &["phillip", "phil", "philip"],
    &["peter", "pete"],
    &["zachary", "zach", "zack"],
    &["nathaniel", "nate", "nat", "nathan"],
    &["jacob", "jake"],
    &["joshua", "josh"],
    &["gabriel", "gabe"],
    &["isabella", "bella", "izzy"],
    &["jacqueline", "jackie"],
    &["melissa", "mel", "missy"],
    &["amanda", "mandy"],
    &["angela", "angie"],
    &["ann", "annie", "anna", "nancy"],
    &["mary", "molly", "polly", "mae"],
    &["sarah", "sally", "sadie"],
    &["helen", "nell", "nellie"],
    &["eleanor", "ellie", "nell", "nora"],
    &["teresa", "terri", "tess", "tessa", "theresa"],
    &["terrence", "terry"],
    &["valerie", "val"],
    &["veronica", "ronnie"],
    &["wilhelmina", "mina", "billie"],
];

/// The other names of `name` (lower-cased), not `name` itself; empty for a name in no group.
pub fn equivalents(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = GROUPS
        .iter()
        .filter(|g| g.contains(&name))
        .flat_map(|g| g.iter().copied())
        .filter(|n| *n != name)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nicknames_find_their_names_both_ways() {
        for (a, b) in [
            ("bill", "william"),
            ("liz", "elizabeth"),
            ("bob", "robert"),
            ("kate", "katherine"),
            ("peggy", "margaret"),
        ] {
            assert!(equivalents(a).contains(&b), "{a} -> {b}");
            assert!(equivalents(b).contains(&a), "{b} -> {a}");
        }
        assert!(equivalents("zyxwvuts").is_empty());
        assert!(!equivalents("bill").contains(&"bill"));
        // Every name in the table is lower-case letters, as the search compares them.
        for g in GROUPS {
            for n in *g {
                assert!(n.chars().all(|c| c.is_ascii_lowercase()), "{n}");
            }
        }
    }
}
