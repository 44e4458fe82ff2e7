ALTER TABLE `cells` ADD `agreeing_pair` text;--> statement-breakpoint
-- The witness of each reproduced cell from its lineage sums: the first two neighbours, in order of
-- their mean decode speeds, that agree within the tolerance (0.15, schema/api.ts), as [higher, lower].
UPDATE `cells` SET `agreeing_pair` = (
  SELECT json_array(`k`, `pk`) FROM (
    SELECT `key` AS `k`, `m`, lag(`key`) OVER `w` AS `pk`, lag(`m`) OVER `w` AS `p`
    FROM (SELECT `key`, json_extract(`value`, '$[1]') / json_extract(`value`, '$[0]') AS `m` FROM json_each(`cells`.`lineage_sums`))
    WINDOW `w` AS (ORDER BY `m`, `key`)
  ) WHERE `p` IS NOT NULL AND `m` - `p` <= 0.15 * `m` LIMIT 1
) WHERE `level` = 'reproduced';
