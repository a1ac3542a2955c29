// AsyncSMTPClient.
export {};
