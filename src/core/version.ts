// Single source of the version recorded in jobs and models (kept equal to package.json by a unit test).
export const STACKSEG_VERSION = '0.1.0';
