import { Module } from '@nestjs/common';

/** Job statistics for the admin console. */
@Module({})
export class StatsModule {}
