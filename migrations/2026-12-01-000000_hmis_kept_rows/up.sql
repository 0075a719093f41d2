-- Kept HMIS CSV rows become data under the datum rule and find their Hearth row again:
--   target_id     the Hearth row the source row became (a client, stay, datum, project or the
--                 agency an Organization row maps to); NULL for a row kept only whole.
--   collected_on  the day the row's data was collected (its information, service, assessment,
--                 event, exit or entry date; else the day of its DateCreated): with agency_id
--                 (the entering agency) it is what the datum rule decides on.
--   seq           the order rows came in, so an export gives them back in their source order.
ALTER TABLE hmis_rows
    ADD COLUMN target_id uuid,
    ADD COLUMN collected_on date,
    ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX hmis_rows_target_idx ON hmis_rows (target_id);
