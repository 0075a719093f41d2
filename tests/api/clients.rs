//! Client records through the API (identity modes, access levels, PATCH, visibility, search, audit).
