DROP INDEX `runs_cell`;--> statement-breakpoint
CREATE INDEX `runs_cell_reproduction` ON `runs` (`cell`,`reproduction`);--> statement-breakpoint
ALTER TABLE `cells` ADD `decode_sum` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `cells` ADD `decode_m2` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `cells` ADD `lineage_sums` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
-- The sums ingest keeps from now on, from the runs that count in each cell (ranked, visible, with a
-- decode speed): per submitter lineage, then the cell's sum and squared deviations from its mean.
UPDATE `cells` SET `lineage_sums` = coalesce((
  SELECT json_group_object(`lineage`, json_array(`n`, `s`)) FROM (
    SELECT `devices`.`lineage` AS `lineage`, count(*) AS `n`, sum(`runs`.`decode_tps`) AS `s`
    FROM `runs` JOIN `devices` ON `devices`.`id` = `runs`.`device_id`
    WHERE `runs`.`cell` = `cells`.`cell` AND `runs`.`rank_group` = 0 AND `runs`.`hidden_reason` IS NULL
      AND `runs`.`decode_tps` IS NOT NULL
    GROUP BY `devices`.`lineage`
  )
), '{}');--> statement-breakpoint
UPDATE `cells` SET `decode_sum` = coalesce((
  SELECT sum(`runs`.`decode_tps`) FROM `runs`
  WHERE `runs`.`cell` = `cells`.`cell` AND `runs`.`rank_group` = 0 AND `runs`.`hidden_reason` IS NULL
    AND `runs`.`decode_tps` IS NOT NULL
), 0);--> statement-breakpoint
UPDATE `cells` SET `decode_m2` = coalesce((
  SELECT sum((`runs`.`decode_tps` - `cells`.`decode_sum` / `cells`.`runs`) * (`runs`.`decode_tps` - `cells`.`decode_sum` / `cells`.`runs`))
  FROM `runs`
  WHERE `runs`.`cell` = `cells`.`cell` AND `runs`.`rank_group` = 0 AND `runs`.`hidden_reason` IS NULL
    AND `runs`.`decode_tps` IS NOT NULL
), 0) WHERE `cells`.`runs` > 0;
