import packageJson from '../../package.json';

/** The running build's version, as released (package.json). */
export const APP_VERSION: string = packageJson.version;
