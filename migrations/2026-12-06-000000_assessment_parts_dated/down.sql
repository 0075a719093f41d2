-- The former days (DateCreated) are not kept: nothing to undo.
SELECT 1;
