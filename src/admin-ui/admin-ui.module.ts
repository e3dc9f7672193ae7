import { Module } from '@nestjs/common';
import { AdminUiController } from './admin-ui.controller';
import { AdminUiService } from './admin-ui.service';

/** The built Angular console, served at `/admin/`; `/` redirects there. */
@Module({
  controllers: [AdminUiController],
  providers: [AdminUiService],
  exports: [AdminUiService],
})
export class AdminUiModule {}
