CREATE TABLE `data_version` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `cells` ADD `quantization` text;--> statement-breakpoint
-- Live pages (issue 13): the site is rendered on demand and cached under a key holding this number.
-- Every API request that writes (a POST answered below 400) bumps it once it has written; a write
-- made outside the API (an operator's `wrangler d1 execute`) must bump it too (docs/DEPLOY.md).
INSERT INTO `data_version` (`id`, `version`) VALUES (1, 1);--> statement-breakpoint
-- Cells stored before this migration: their runs' spelling of the quantization.
UPDATE `cells` SET `quantization` = (SELECT `runs`.`quantization` FROM `runs` WHERE `runs`.`cell` = `cells`.`cell` LIMIT 1);
