import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppLogger } from '../common/app-logger';
import { SlotsRepository } from './slots.repository';
import { SlotsService } from './slots.service';

/** Says at start-up what the slot page says on save: active Turbotext slots need a public URL. */
@Injectable()
export class PublicUrlCheck implements OnApplicationBootstrap {
  constructor(
    private readonly slots: SlotsRepository,
    private readonly service: SlotsService,
    private readonly logger: AppLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const affected = (await this.slots.list()).filter((slot) =>
      this.service.unreachableLinksWarning({ provider: slot.provider, is_active: slot.isActive }),
    );
    if (affected.length === 0) return;
    this.logger.event('warn', 'config.public_url_unreachable', {
      slots: affected.map((slot) => slot.id),
      message: this.service.unreachableLinksWarning({ provider: 'turbotext', is_active: true }),
    });
  }
}
