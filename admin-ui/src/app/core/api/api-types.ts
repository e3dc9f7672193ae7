/** The server's JSON, as SPEC §6 and /api/docs-json describe it (snake_case, ISO dates). */

export type ProviderId = 'gemini' | 'turbotext';

export type JobStatus =
  | 'pending'
  | 'processing'
  | 'completed'
  | 'failed_timeout'
  | 'failed_provider'
  | 'failed_internal'
  | 'cancelled';

export interface AccessToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface SlotSummary {
  id: string;
  display_name: string;
  provider: ProviderId | null;
  operation: string | null;
  is_active: boolean;
  version: number;
  updated_at: string;
  ingest_url: string;
  last_job_at: string | null;
  last_status: JobStatus | null;
}

export interface TemplateBinding {
  media_kind: string;
  template_media_id: string;
  mime_type: string;
  width: number;
  height: number;
  preview_url: string;
}

export interface RecentResult {
  job_id: string;
  result_url: string;
  preview_url: string;
  finished_at: string;
  expires_at: string;
  mime_type: string;
}

export interface SlotDetail extends SlotSummary {
  settings: Record<string, unknown>;
  updated_by: string | null;
  template_media: TemplateBinding[];
  recent_results: RecentResult[];
  warnings?: string[];
}

export interface SlotUpdate {
  display_name: string;
  provider: ProviderId | null;
  operation: string | null;
  is_active: boolean;
  settings: Record<string, unknown>;
  template_media: Array<{ media_kind: string; template_media_id: string }>;
  version: number;
}

export type JsonSchema = Record<string, unknown>;

export interface ProviderOperation {
  id: string;
  name: string;
  required_templates: string[];
  optional_templates: string[];
  max_templates_per_kind: number | null;
  settings_schema: JsonSchema;
}

export interface Provider {
  id: ProviderId;
  name: string;
  configured: boolean;
  operations: ProviderOperation[];
}

export interface TemplateMedia {
  id: string;
  mime_type: string;
  size_bytes: number;
  width: number;
  height: number;
  preview_url: string;
}

export interface ProviderKeyStatus {
  configured: boolean;
  updated_at: string | null;
}

export interface Settings {
  sync_response_seconds: number;
  result_ttl_hours: number;
  max_upload_mb: number;
  max_input_megapixels: number;
  slot_concurrency: number;
  provider_concurrency: { gemini: number; turbotext: number };
  provider_max_edge_px: number;
  version: number;
  ingest_password_set: boolean;
  ingest_password_rotated_at: string | null;
  ingest_password_rotated_by: string | null;
  provider_keys: Record<ProviderId, ProviderKeyStatus>;
}

export interface SettingsUpdate {
  sync_response_seconds?: number;
  result_ttl_hours?: number;
  max_upload_mb?: number;
  max_input_megapixels?: number;
  slot_concurrency?: number;
  provider_concurrency?: { gemini?: number; turbotext?: number };
  provider_max_edge_px?: number;
  version?: number;
  /** Write-only. */
  ingest_password?: string;
  /** Write-only; null deletes the stored key. */
  provider_keys?: Partial<Record<ProviderId, string | null>>;
}

export interface GalleryLink {
  url: string;
  expires_at: string;
}

export interface PublicGallery {
  slot_id: string;
  display_name: string;
  expires_at: string;
  results: Array<{ job_id: string; result_url: string; preview_url: string; finished_at: string }>;
}

export interface SystemStats {
  jobs_total: number;
  jobs_last_window: number;
  timeouts_last_window: number;
  provider_errors_last_window: number;
  storage_usage_mb: number;
  success_rate_last_window?: number | null;
  timeout_rate_last_window?: number | null;
  p95_duration_ms_last_window?: number | null;
  jobs_in_flight?: number;
  test_runs_last_window?: number;
}

export interface SlotStats {
  slot_id: string;
  display_name: string;
  is_active: boolean;
  jobs_total?: number;
  jobs_last_window: number;
  timeouts_last_window: number;
  provider_errors_last_window: number;
  last_success_at: string | null;
  last_error_reason: string | null;
  last_error_at?: string | null;
  success_rate?: number | null;
  p95_duration_ms?: number | null;
  test_runs_last_window?: number;
}

export interface StatsBucket {
  start: string;
  jobs: number;
  completed: number;
  timeouts: number;
  provider_errors: number;
}

export interface StatsOverview {
  window_minutes: number;
  system: SystemStats;
  slots: SlotStats[];
  series?: { bucket_seconds: number; buckets: StatsBucket[] };
}

export interface AuditEntry {
  id: string;
  created_at: string;
  actor: string;
  entity_type: string;
  entity_id: string | null;
  action: string;
  old_value: Record<string, unknown> | null;
  new_value: Record<string, unknown> | null;
}

/** Every error answer: `{"status":"error","failure_reason","message", …}`. */
export interface ErrorBody {
  status: 'error';
  failure_reason: string;
  message: string;
  job_id?: string;
  errors?: Record<string, string>;
  error_id?: string;
}

/** A finished test-run: the edited photo and where it is kept. */
export interface TestRunResult {
  image: Blob;
  jobId: string | null;
  resultUrl: string | null;
}
