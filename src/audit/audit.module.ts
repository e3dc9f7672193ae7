import { Global, Module } from '@nestjs/common';
import { AuditRepository } from './audit.repository';

/** The change history of slots and settings (`audit_log`). */
@Global()
@Module({ providers: [AuditRepository], exports: [AuditRepository] })
export class AuditModule {}
