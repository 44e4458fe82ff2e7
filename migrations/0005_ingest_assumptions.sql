CREATE TABLE `ingest_assumptions` (
	`held` integer NOT NULL,
	CONSTRAINT "ingest_assumptions_hold" CHECK("ingest_assumptions"."held" = 1)
);
