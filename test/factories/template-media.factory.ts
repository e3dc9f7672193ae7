import { createHash, randomUUID } from 'node:crypto';
import { sql } from '../support/database';

export interface TemplateMediaRow {
  id: string;
  path: string;
  mimeType: string;
  sizeBytes: number;
  sha256: string;
  width: number;
  height: number;
  createdAt: Date;
  createdBy: string;
}

/** A `template_media` row as an upload would leave it; no file is written. */
export async function insertTemplateMedia(
  databaseUrl: string,
  overrides: Partial<TemplateMediaRow> = {},
): Promise<TemplateMediaRow> {
  const id = overrides.id ?? randomUUID();
  const row: TemplateMediaRow = {
    id,
    path: `templates/${id}/original.png`,
    mimeType: 'image/png',
    sizeBytes: 2048,
    sha256: createHash('sha256').update(id).digest('hex'),
    width: 1024,
    height: 768,
    createdAt: new Date(),
    createdBy: 'serg',
    ...overrides,
  };
  await sql(
    databaseUrl,
    `INSERT INTO template_media (id, path, mime_type, size_bytes, sha256, width, height, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      row.id,
      row.path,
      row.mimeType,
      row.sizeBytes,
      row.sha256,
      row.width,
      row.height,
      row.createdAt,
      row.createdBy,
    ],
  );
  return row;
}
