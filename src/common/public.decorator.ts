import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'photochanger:public';

/** Opts a route out of the global JWT guard; every other route is admin-only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
