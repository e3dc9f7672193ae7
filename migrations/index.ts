import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { JobStatistics1763900000000 } from './1763900000000-job-statistics';

/** Every migration, in order; listed explicitly so the app, the CLI and the tests load the same set. */
export const MIGRATIONS = [InitialSchema1763800000000, JobStatistics1763900000000];
