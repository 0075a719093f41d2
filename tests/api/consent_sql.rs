//! The consent filter in SQL agrees with the pure engine on random worlds.
