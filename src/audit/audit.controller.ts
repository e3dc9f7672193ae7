import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuditRepository } from './audit.repository';
import { AuditEntryDto, AuditQueryDto } from './dto/audit-query.dto';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  @Get()
  @ApiOkResponse({ type: [AuditEntryDto], description: 'Newest first; secrets are masked' })
  async list(@Query() query: AuditQueryDto): Promise<AuditEntryDto[]> {
    const rows = await this.audit.list(query.limit ?? 50, query.before);
    return rows.map((row) => ({
      id: row.id,
      created_at: row.createdAt.toISOString(),
      actor: row.actor,
      entity_type: row.entityType,
      entity_id: row.entityId,
      action: row.action,
      old_value: row.oldValue,
      new_value: row.newValue,
    }));
  }
}
