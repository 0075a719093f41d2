//! Enumerations and `CocCode` map to their text columns with diesel's `FromSql`/`ToSql`: a word
//! reads back as the value, and a stored value that is not one of the words is an error, never a
//! default.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use hearth::consent::{AccessBasis, IdentityMode, Lifecycle, Visibility};
use hearth::domain::dob::AnonymousDobRule;
use hearth::domain::identity::{AnonymousNameFormat, Race};
use hearth::domain::words::{RequestStatus, RoiGrantMode, RoiMethod};
use hearth::domain::CocCode;

use crate::harness::test_pool;

fn read<T>(conn: &mut PgConnection, literal: &str) -> QueryResult<T>
where
    T: diesel::deserialize::FromSqlRow<Text, diesel::pg::Pg> + 'static,
{
    diesel::select(sql::<Text>(&format!("'{literal}'::text"))).get_result(conn)
}

#[test]
fn stored_words_read_back_as_values_and_strangers_are_errors() {
    let pool = test_pool();
    let conn = &mut pool.get().unwrap();
    macro_rules! words {
        ($($t:ty),*) => {$(
            for v in <$t>::ALL {
                assert_eq!(read::<$t>(conn, v.as_str()).unwrap(), *v);
                // And what is written is the word.
                let back: String = diesel::select(v.into_sql::<Text>()).get_result(conn).unwrap();
                assert_eq!(back, v.as_str());
            }
            assert!(read::<$t>(conn, "no_such_word").is_err(), stringify!($t));
        )*};
    }
    words!(
        IdentityMode,
        Visibility,
        Lifecycle,
        AccessBasis,
        Race,
        AnonymousNameFormat,
        RoiGrantMode,
        RoiMethod,
        RequestStatus
    );
    for r in AnonymousDobRule::ALL {
        assert_eq!(read::<AnonymousDobRule>(conn, r.as_str()).unwrap(), r);
    }
    assert!(read::<AnonymousDobRule>(conn, "Jan1OfBirthYear").is_err());

    assert_eq!(
        read::<CocCode>(conn, "IL-510").unwrap(),
        CocCode::parse("IL-510").unwrap()
    );
    assert!(read::<CocCode>(conn, "il-510").is_err());
    let races: Vec<Race> = diesel::select(sql::<Array<Text>>("ARRAY['asian', 'white']"))
        .get_result(conn)
        .unwrap();
    assert_eq!(races, vec![Race::Asian, Race::White]);
    let bad: QueryResult<Vec<Race>> =
        diesel::select(sql::<Array<Text>>("ARRAY['asian', 'purple']")).get_result(conn);
    assert!(bad.is_err());
}
