/** The PostgreSQL NOTIFY channels of the process (LISTEN/NOTIFY lives in db/). */

/** Wakes every dispatcher when messages that are due commit. */
export const WAKE_CHANNEL = 'storehook_messages';
