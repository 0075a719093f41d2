-- AssessmentQuestions and AssessmentResults rows are collected with their Assessment: they are
-- dated by its AssessmentDate (the collection day of the Assessment row the same agency kept,
-- or of the datum it became), not by their own DateCreated. Rows kept before are dated again.
-- `fields->>1` is `AssessmentID` in both files' kept order (`hmis_csv::kept`, held by a test).
UPDATE hmis_rows q SET collected_on = a.day
FROM (
    SELECT a.agency_id, a.source_id, COALESCE(d.collected_on, a.collected_on) AS day
    FROM hmis_rows a
    LEFT JOIN enrollment_data d ON a.target_id IS NOT NULL AND d.id = a.target_id
    WHERE a.file = 'Assessment'
) a
WHERE q.file IN ('AssessmentQuestions', 'AssessmentResults')
  AND a.agency_id = q.agency_id
  AND a.source_id = btrim(q.fields->>1) COLLATE "C"
  AND a.day IS NOT NULL
  AND q.collected_on IS DISTINCT FROM a.day;
