CREATE TABLE `aliases` (
	`kind` text NOT NULL,
	`alias` text NOT NULL,
	`slug` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`kind`, `alias`)
);
--> statement-breakpoint
CREATE TABLE `annotations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`engine` text NOT NULL,
	`from_version` text NOT NULL,
	`to_version` text NOT NULL,
	`from_key` text NOT NULL,
	`to_key` text NOT NULL,
	`note` text NOT NULL,
	`effect` text NOT NULL,
	`created_at` text NOT NULL,
	`removed_at` text
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`reason` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_actor` ON `audit_log` (`actor`,`id`);--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target`,`id`);--> statement-breakpoint
CREATE TABLE `cells` (
	`cell` text PRIMARY KEY NOT NULL,
	`hardware_slug` text NOT NULL,
	`model_slug` text NOT NULL,
	`visible_runs` integer DEFAULT 0 NOT NULL,
	`best_decode_tps` real,
	`runs` integer NOT NULL,
	`lineages` integer NOT NULL,
	`decode_mean` real,
	`decode_stddev` real,
	`level` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `cells_hardware` ON `cells` (`hardware_slug`);--> statement-breakpoint
CREATE INDEX `cells_model` ON `cells` (`model_slug`);--> statement-breakpoint
CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`public_key` text NOT NULL,
	`first_seen_at` text NOT NULL,
	`lineage` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`status_at` text,
	`replaced_by` text
);
--> statement-breakpoint
CREATE TABLE `hardware` (
	`slug` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`first_seen_at` text NOT NULL,
	`run_count` integer DEFAULT 0 NOT NULL,
	`model_count` integer DEFAULT 0 NOT NULL,
	`best_decode_tps` real
);
--> statement-breakpoint
CREATE TABLE `models` (
	`slug` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`family` text,
	`parameters` integer,
	`first_seen_at` text NOT NULL,
	`run_count` integer DEFAULT 0 NOT NULL,
	`hardware_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`device_id` text NOT NULL,
	`hardware_slug` text NOT NULL,
	`hardware_name` text NOT NULL,
	`model_slug` text NOT NULL,
	`model_name` text NOT NULL,
	`quantization` text,
	`parameters` integer,
	`engine` text NOT NULL,
	`engine_version` text,
	`version_key` text,
	`backend` text,
	`decode_tps` real,
	`decode_n_gen` integer,
	`prefill_tps` real,
	`prefill_n_prompt` integer,
	`ttft_ms` real,
	`load_ms` real,
	`peak_memory_bytes` integer,
	`quality_status` text NOT NULL,
	`quality_reason` text,
	`quality_score` real,
	`flags` text DEFAULT '[]' NOT NULL,
	`rank_group` integer NOT NULL,
	`decode_sort_key` real NOT NULL,
	`prefill_sort_key` real NOT NULL,
	`ttft_sort_key` real NOT NULL,
	`cell` text NOT NULL,
	`reproduction` text DEFAULT 'single' NOT NULL,
	`method` text NOT NULL,
	`import_format` text,
	`created_at` text NOT NULL,
	`measured_at` text,
	`received_at` text NOT NULL,
	`nonce` text,
	`hidden_reason` text,
	`retracted_at` text,
	`retraction_reason` text,
	`envelope` text NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`hardware_slug`) REFERENCES `hardware`(`slug`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`model_slug`) REFERENCES `models`(`slug`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_hardware_rank` ON `runs` (`hardware_slug`,`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_hardware_prefill` ON `runs` (`hardware_slug`,`rank_group`,"prefill_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_hardware_ttft` ON `runs` (`hardware_slug`,`rank_group`,`ttft_sort_key`,`id`);--> statement-breakpoint
CREATE INDEX `runs_model_rank` ON `runs` (`model_slug`,`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_rank` ON `runs` (`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_received` ON `runs` (`received_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_cell` ON `runs` (`cell`);--> statement-breakpoint
CREATE UNIQUE INDEX `runs_device_nonce` ON `runs` (`device_id`,`nonce`) WHERE "runs"."nonce" is not null;