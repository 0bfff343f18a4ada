/**
 * The one queue group of this service. Every copy shares one durable subscription per subject,
 * named after it, so it must never change once deployed (a new name would replay every event).
 */
export const QUEUE_GROUP_NAME = 'orders-service';
