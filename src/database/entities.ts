import { AuditLogEntity } from '../audit/audit-log.entity';
import { LoginThrottleEntity } from '../auth/login-throttle.entity';
import { JobEntity } from '../ingest/job.entity';
import { MediaObjectEntity } from '../media/media-object.entity';
import { TemplateMediaEntity } from '../media/template-media.entity';
import { AppSettingEntity } from '../settings/app-setting.entity';
import { GalleryShareEntity } from '../slots/gallery-share.entity';
import { SlotTemplateMediaEntity } from '../slots/slot-template-media.entity';
import { SlotEntity } from '../slots/slot.entity';

export const ENTITIES = [
  SlotEntity,
  SlotTemplateMediaEntity,
  GalleryShareEntity,
  TemplateMediaEntity,
  MediaObjectEntity,
  JobEntity,
  AppSettingEntity,
  AuditLogEntity,
  LoginThrottleEntity,
];
