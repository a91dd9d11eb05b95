"""Online applications: declarative forms, drafts, attachments, cases, messages."""
