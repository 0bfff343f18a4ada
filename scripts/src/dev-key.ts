/** The JWT key the local stack uses when JWT_KEY is not set. Never used in a cluster. */
export const DEV_JWT_KEY = 'dev-only-jwt-key-change-me';
