/** Vireo's own version, and the Redis version it presents itself as (clients gate features on it). */
export const VERSION = '0.1.0';
export const REDIS_VERSION = '7.2.4';
