CREATE TABLE `devices` (
	`id` text PRIMARY KEY NOT NULL,
	`public_key` text NOT NULL,
	`first_seen_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `hardware` (
	`slug` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`first_seen_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `models` (
	`slug` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`family` text,
	`parameters` integer,
	`first_seen_at` text NOT NULL
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
	`rank_group` integer NOT NULL,
	`decode_sort_key` real NOT NULL,
	`method` text NOT NULL,
	`import_format` text,
	`created_at` text NOT NULL,
	`measured_at` text,
	`received_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
	`envelope` text NOT NULL,
	FOREIGN KEY (`device_id`) REFERENCES `devices`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`hardware_slug`) REFERENCES `hardware`(`slug`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`model_slug`) REFERENCES `models`(`slug`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `runs_hardware_rank` ON `runs` (`hardware_slug`,`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_model_rank` ON `runs` (`model_slug`,`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_rank` ON `runs` (`rank_group`,"decode_sort_key" desc,`id`);--> statement-breakpoint
CREATE INDEX `runs_received` ON `runs` (`received_at`,`id`);