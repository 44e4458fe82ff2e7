-- GPU runs filed under their GPU, models under their canonical identity (issues 12 and 16). SQL cannot
-- compute either from the stored envelopes: every run stored before this migration keeps
-- identity_version 0, and POST /v1/admin/rekey re-files it from its envelope (docs/DEPLOY.md, step 3).
ALTER TABLE `hardware` ADD `kind` text DEFAULT 'system' NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `variant` text;--> statement-breakpoint
ALTER TABLE `models` ADD `base_slug` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `hardware_kind` text DEFAULT 'system' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `source_hardware_name` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `host_cpu` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `host_ram_bytes` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `gpu_layers` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `model_layers` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `source_model_name` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `peak_vram_bytes` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `decode_delivered_tps` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `identity_version` integer DEFAULT 0 NOT NULL;