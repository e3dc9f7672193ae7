import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { SecretBox } from './secret-box';
import { SettingsController } from './settings.controller';
import { SettingsRepository } from './settings.repository';
import { SettingsService } from './settings.service';

/** Global settings (SPEC §6): read from the database on every use, so changes apply at once everywhere. */
@Module({
  controllers: [SettingsController],
  providers: [SettingsService, SettingsRepository, SecretBox, PasswordHasher],
  exports: [SettingsService],
})
export class SettingsModule {}
