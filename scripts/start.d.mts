/** Where Debian-style systems install jemalloc for this CPU, if it is there. */
export function jemallocPath(): string | undefined;
/** The environment to start the server with: jemalloc preloaded when available and wanted. */
export function serverEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
