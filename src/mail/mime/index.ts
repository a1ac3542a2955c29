// MailMessage, Attachment.
export {};
