export { insertJob } from './job.factory';
export type { JobRow } from './job.factory';
export { insertTemplateMedia } from './template-media.factory';
export type { TemplateMediaRow } from './template-media.factory';
