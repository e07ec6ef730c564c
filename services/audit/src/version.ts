/** The audit service's version: its service definition's, and CEF's Device Version. */
export const AUDIT_VERSION = '0.1.0';
