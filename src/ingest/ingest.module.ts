import { Module } from '@nestjs/common';

/** `POST /ingest/{slot_id}`: a booth's photo in, the edited photo out before the deadline. */
@Module({})
export class IngestModule {}
