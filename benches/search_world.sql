-- The duplicate-search world of benches/search.sh: :n clients (default 1,000,000) with US-census-like
-- name frequencies, DOBs over 80 years and 2% seeded duplicates, one error kind each. Plain SQL
-- (generate_series, hash joins): about a minute for a million on 2 cores.
--
-- Ids are built from integers: client i -> 00000000-0000-4000-8000-<i, 12 digits>,
-- agency i -> 00000000-0000-4000-a000-<i, 12 digits>. The bench caller is a case worker of
-- agency 1 (shares data). Records are open with a statewide ROI (85%), closed (10%) or private (5%).
\set ON_ERROR_STOP on
-- A bulk load of generated, consistent rows: no per-row foreign-key triggers (superuser only).
SET session_replication_role = replica;
SET work_mem = '256MB';
BEGIN;
INSERT INTO cocs (code, name, roi_grant_mode)
SELECT format('BN-%s', lpad(i::text, 3, '0')), 'Bench CoC ' || i, 'window'
FROM generate_series(1, 10) i;
INSERT INTO agencies (id, coc_code, name, shares_data)
SELECT ('00000000-0000-4000-a000-' || lpad(i::text, 12, '0'))::uuid,
       format('BN-%s', lpad((1 + (i - 1) % 10)::text, 3, '0')), 'Bench agency ' || i, i % 4 <> 0
FROM generate_series(1, 100) i;

-- Name bags: a head of real names with their approximate count per million (2010 census,
-- SSA), and a long synthetic tail (syllables) with falling weights. A bag row per expected
-- bearer, so a uniform draw over the bag follows the frequencies.
CREATE TEMP TABLE last_w (name text, w int);
INSERT INTO last_w VALUES
 ('Smith',8280),('Johnson',6900),('Williams',5700),('Brown',5100),('Jones',5000),('Garcia',3900),
 ('Miller',3900),('Davis',3800),('Rodriguez',3500),('Martinez',3400),('Hernandez',3400),
 ('Lopez',2800),('Gonzalez',2800),('Wilson',2700),('Anderson',2700),('Thomas',2600),('Taylor',2500),
 ('Moore',2500),('Jackson',2400),('Martin',2400),('Lee',2300),('Perez',2200),('Thompson',2200),
 ('White',2200),('Harris',2100),('Sanchez',2000),('Clark',1900),('Ramirez',1900),('Lewis',1800),
 ('Robinson',1800),('Walker',1700),('Young',1600),('Allen',1600),('King',1600),('Wright',1600),
 ('Scott',1500),('Torres',1500),('Nguyen',1500),('Hill',1500),('Flores',1500);
INSERT INTO last_w
SELECT initcap(a || b || c), greatest(1, (200000 / (200 + row_number() OVER (ORDER BY md5(a || b || c))))::int)
FROM unnest('{bar,cal,dem,fen,gol,har,kel,lin,mor,nor,pel,ros,sal,tor,vel,wes,ald,bren,cor,dal,
              ell,fair,gar,hol,ing,jor,kin,lam,mar,oak,pem,quin,rad,stan,tam,ul,van,wil,yor,zel}'::text[]) a,
     unnest('{b,d,l,m,n,r,s,t,v,w,ch,gr,st,th,nd,rr,ll,ck,ff,ss}'::text[]) b,
     unnest('{ey,in,ton,son,ley,man,er,ard,field,ford,well,wood,by,ham,ick,ell,ow,ing,ers,ez}'::text[]) c;
CREATE TEMP TABLE first_w (name text, w int);
INSERT INTO first_w VALUES
 ('James',16000),('John',15500),('Robert',15000),('Michael',14000),('Mary',13000),('William',12000),
 ('David',12000),('Richard',6000),('Patricia',5500),('Joseph',5500),('Jennifer',5000),('Linda',5000),
 ('Thomas',5000),('Charles',5000),('Elizabeth',4800),('Barbara',4700),('Christopher',4500),
 ('Daniel',4400),('Susan',4000),('Jessica',3500),('Matthew',3500),('Sarah',3400),('Karen',3400),
 ('Anthony',3200),('Nancy',3000),('Lisa',3000),('Mark',3000),('Donald',3000),('Betty',2900),
 ('Steven',2900),('Margaret',2800),('Sandra',2800),('Paul',2800),('Ashley',2700),('Maria',2500),
 ('Andrew',2500),('Joshua',2500),('Kimberly',2500),('Emily',2400),('Donna',2400),('Jose',2400),
 ('Michelle',2300),('Juan',2000),('Carlos',1800),('Luis',1800);
INSERT INTO first_w
SELECT initcap(a || b || c), greatest(1, (193000 / (100 + row_number() OVER (ORDER BY md5(a || b || c))))::int)
FROM unnest('{al,bel,car,dor,el,fa,ga,hel,is,ja,ka,le,ma,na,o,pa,ra,sa,ta,va,za,ber,cla,dar,mi}'::text[]) a,
     unnest('{b,d,l,m,n,r,s,v,nn,ll}'::text[]) b,
     unnest('{a,ie,o,ine,ette,on,an,ia,el,us,ell,ey,ina,ard,ela,ith,or,is,en,ah}'::text[]) c;
CREATE TEMP TABLE last_bag AS
SELECT row_number() OVER () - 1 AS k, name FROM last_w, generate_series(1, w);
CREATE TEMP TABLE first_bag AS
SELECT row_number() OVER () - 1 AS k, name FROM first_w, generate_series(1, w);
CREATE UNIQUE INDEX ON last_bag (k);
CREATE UNIQUE INDEX ON first_bag (k);
ANALYZE last_bag; ANALYZE first_bag;

-- Originals: 98% of the records.
CREATE TEMP TABLE g AS
SELECT i, 1 + (i - 1) % 100 AS ag,
       ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid AS id,
       fb.name AS first_name, lb.name AS last_name,
       DATE '1940-01-01' + (abs(hashint4(i * 3)) % 29220) AS dob,
       CASE WHEN i % 20 = 7 THEN 'private' WHEN i % 10 = 3 THEN 'closed' ELSE 'open' END AS visibility,
       -- a valid SSN (area 001-899 but 666, group 01-99, serial 0001-9999)
       lpad((1 + abs(hashint4(i * 5)) % 898 + (1 + abs(hashint4(i * 5)) % 898 >= 666)::int)::text, 3, '0')
         || lpad((1 + abs(hashint4(i * 11)) % 99)::text, 2, '0')
         || lpad((1 + abs(hashint4(i * 13)) % 9999)::text, 4, '0') AS ssn
FROM generate_series(1, :n - :n / 50) i
JOIN first_bag fb ON fb.k = abs(hashint4(i)) % (SELECT count(*) FROM first_bag)
JOIN last_bag lb ON lb.k = abs(hashint4(i * 7 + 1)) % (SELECT count(*) FROM last_bag);
CREATE UNIQUE INDEX ON g (i);
ANALYZE g;

-- Duplicates: 2%, each a copy of an original visible to the bench caller (open) with one error.
-- kind: first_typo, last_typo, last_transposed, last_letter_dropped, dob_day_month_swapped,
-- dob_year_off_by_one, dob_jan1_of_birth_year, dob_jan1_of_next_year.
CREATE TEMP TABLE d AS
WITH pick AS (
    SELECT j, (ARRAY['first_typo','last_typo','last_transposed','last_letter_dropped',
                     'dob_day_month_swapped','dob_year_off_by_one','dob_jan1_of_birth_year',
                     'dob_jan1_of_next_year'])[1 + j % 8] AS kind
    FROM generate_series(1, :n / 50) j
), src AS (
    SELECT p.j, p.kind, t.s, o.*
    FROM pick p
    CROSS JOIN generate_series(1, 40) t(s)
    JOIN g o ON o.i = 1 + abs(hashint4(p.j * 31 + t.s)) % (:n - :n / 50)
    WHERE o.visibility = 'open'
      AND (p.kind <> 'dob_day_month_swapped'
           OR (extract(day FROM o.dob) <= 12 AND extract(day FROM o.dob) <> extract(month FROM o.dob)))
      AND (p.kind NOT LIKE 'last_%' OR length(o.last_name) >= 4)
      AND (p.kind <> 'first_typo' OR length(o.first_name) >= 4)
      AND (p.kind NOT LIKE 'dob_jan1%' OR o.dob <> date_trunc('year', o.dob)::date)
)
SELECT DISTINCT ON (j) j, kind, i AS orig, id AS orig_id, first_name AS o_first, last_name AS o_last,
       dob AS o_dob, ag
FROM src ORDER BY j, s;

CREATE TEMP TABLE dup AS
SELECT (:n - :n / 50) + d.j AS i, d.kind, d.orig, d.orig_id,
       ('00000000-0000-4000-8000-' || lpad(((:n - :n / 50) + d.j)::text, 12, '0'))::uuid AS id,
       1 + (d.ag + 7) % 100 AS ag,
       CASE d.kind WHEN 'first_typo' THEN
           overlay(d.o_first PLACING chr(97 + abs(hashint4(d.j)) % 26) FROM 2 + abs(hashint4(d.j * 3)) % (length(d.o_first) - 1) FOR 1)
           ELSE d.o_first END AS first_name,
       CASE d.kind
         WHEN 'last_typo' THEN
           overlay(d.o_last PLACING chr(97 + abs(hashint4(d.j)) % 26) FROM 2 + abs(hashint4(d.j * 3)) % (length(d.o_last) - 1) FOR 1)
         WHEN 'last_transposed' THEN
           (SELECT left(d.o_last, p - 1) || substr(d.o_last, p + 1, 1) || substr(d.o_last, p, 1) || substr(d.o_last, p + 2)
            FROM (SELECT 2 + abs(hashint4(d.j * 5)) % (length(d.o_last) - 2) AS p) x)
         WHEN 'last_letter_dropped' THEN
           (SELECT left(d.o_last, p - 1) || substr(d.o_last, p + 1)
            FROM (SELECT 2 + abs(hashint4(d.j * 5)) % (length(d.o_last) - 1) AS p) x)
         ELSE d.o_last END AS last_name,
       CASE d.kind
         WHEN 'dob_day_month_swapped' THEN make_date(extract(year FROM d.o_dob)::int,
                                                     extract(day FROM d.o_dob)::int, extract(month FROM d.o_dob)::int)
         WHEN 'dob_year_off_by_one' THEN (d.o_dob + CASE WHEN d.j % 2 = 0 THEN interval '1 year' ELSE interval '-1 year' END)::date
         WHEN 'dob_jan1_of_birth_year' THEN date_trunc('year', d.o_dob)::date
         WHEN 'dob_jan1_of_next_year' THEN (date_trunc('year', d.o_dob) + interval '1 year')::date
         ELSE d.o_dob END AS dob
FROM d;

INSERT INTO clients (id, short_uid, person_id, coc_code, created_by_agency, created_by_user,
                     identity_mode, visibility, first_name, last_name, name_quality,
                     ssn, ssn_quality, dob, dob_quality, veteran_status)
SELECT g.id, upper(lpad(to_hex(g.i), 9, '0')), md5('p' || g.i)::uuid,
       format('BN-%s', lpad((1 + (g.ag - 1) % 10)::text, 3, '0')),
       ('00000000-0000-4000-a000-' || lpad(g.ag::text, 12, '0'))::uuid, 'loader',
       'identified', g.visibility, g.first_name, g.last_name, 1, g.ssn, 1, g.dob, 1, 0
FROM g
UNION ALL
SELECT dup.id, upper(lpad(to_hex(dup.i), 9, '0')), md5('p' || dup.i)::uuid,
       format('BN-%s', lpad((1 + (dup.ag - 1) % 10)::text, 3, '0')),
       ('00000000-0000-4000-a000-' || lpad(dup.ag::text, 12, '0'))::uuid, 'loader',
       'identified', 'open', dup.first_name, dup.last_name, 1, NULL, 99, dup.dob,
       CASE WHEN dup.kind LIKE 'dob_jan1%' THEN 2 ELSE 1 END, 0
FROM dup;

INSERT INTO client_contributors (client_id, agency_id)
SELECT c.id, c.created_by_agency FROM clients c;

INSERT INTO roi_consents (id, client_id, recording_agency_id, recorded_by_user, effective_from,
                          expires_on, scope_statewide, method)
SELECT md5('r' || c.id)::uuid, c.id, c.created_by_agency, 'loader', DATE '2024-01-01', NULL, true, 'signed'
FROM clients c WHERE c.visibility = 'open';

-- What the bench reads back: the seeded duplicates and their originals.
CREATE TABLE bench_dups AS
SELECT dup.i, dup.id, dup.kind, dup.orig_id, dup.first_name, dup.last_name, dup.dob FROM dup;
COMMIT;
VACUUM ANALYZE;
CHECKPOINT;
